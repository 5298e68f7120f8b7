import Crypto
import Foundation

/// `MANIFEST.sha256`: one `<sha256 hex>  <relative path>` line per data file, sorted by path, in
/// the format `sha256sum -c` reads (run it from the archive folder).
enum ArchiveManifest {
    static func hexDigest(_ bytes: [UInt8]) -> String {
        SHA256.hash(data: bytes).map { byte in
            let text = String(byte, radix: 16)
            return byte < 0x10 ? "0" + text : text
        }.joined()
    }

    static func render(_ digests: [String: String]) -> [UInt8] {
        Array(digests.keys.sorted().map { "\(digests[$0]!)  \($0)\n" }.joined().utf8)
    }

    /// The digests listed in a manifest, by relative path. Lines that are not `<64 hex>  <path>`
    /// (or the binary-mode `<64 hex> *<path>`) are returned as malformed line numbers.
    static func parse(_ bytes: [UInt8]) -> (digests: [String: String], malformed: [Int]) {
        var digests: [String: String] = [:]
        var malformed: [Int] = []
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        for (index, line) in lines.enumerated() where !line.isEmpty {
            let hex = line.prefix(64)
            let rest = line.dropFirst(64)
            guard hex.count == 64, hex.allSatisfy(\.isHexDigit), rest.hasPrefix("  ") || rest.hasPrefix(" *"),
                rest.count > 2
            else {
                malformed.append(index + 1)
                continue
            }
            digests[String(rest.dropFirst(2))] = hex.lowercased()
        }
        return (digests, malformed)
    }
}

/// The result of checking `MANIFEST.sha256` against the files.
public struct ManifestVerification: Sendable, Equatable {
    /// Files whose content matches the manifest.
    public var verified: [String]
    /// Files listed with a different digest than their content: altered since the last archive call.
    public var mismatched: [String]
    /// Files listed in the manifest that do not exist.
    public var missing: [String]
    /// Data files that the manifest does not list.
    public var unlisted: [String]
    /// Manifest line numbers that are not `<hex>  <path>`.
    public var malformedLines: [Int]
    /// Whether a manifest file exists at all.
    public var manifestFound: Bool

    /// True when the manifest exists and every data file matches it exactly.
    public var isIntact: Bool {
        manifestFound && mismatched.isEmpty && missing.isEmpty && unlisted.isEmpty && malformedLines.isEmpty
    }

    public init(
        verified: [String] = [], mismatched: [String] = [], missing: [String] = [], unlisted: [String] = [],
        malformedLines: [Int] = [], manifestFound: Bool = true
    ) {
        self.verified = verified
        self.mismatched = mismatched
        self.missing = missing
        self.unlisted = unlisted
        self.malformedLines = malformedLines
        self.manifestFound = manifestFound
    }
}
