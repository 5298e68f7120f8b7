public import Foundation
public import RetentionCore

/// Reads a file archive back: entries (decrypted with the key) and the manifest check. Used by
/// tests, by restores and by audits; it never writes.
public struct FileArchiveReader: Sendable {
    public let directory: URL
    private let codec: ArchiveLineCodec

    /// `key` is the same base64 text as the connector's `key` setting, `previousKeys` the earlier
    /// keys; without any key only unencrypted files can be read. Throws `archive.invalid_key` for a
    /// key that is not base64 of 32 bytes.
    public init(directory: URL, key: String? = nil, previousKeys: [String] = []) throws(FileArchiveError) {
        self.directory = directory
        func bytes(_ text: String) throws(FileArchiveError) -> [UInt8]? {
            guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { return nil }
            guard let bytes = ArchiveKeyring.keyBytes(base64: text) else { throw .invalidKey }
            return bytes
        }
        var previous: [[UInt8]] = []
        for text in previousKeys { if let key = try bytes(text) { previous.append(key) } }
        codec = ArchiveLineCodec(keyring: ArchiveKeyring(current: try key.flatMap(bytes), previous: previous))
    }

    /// The data files, as sorted relative paths (`contacts/2026-11.jsonl.enc`).
    public func files() -> [String] {
        ArchiveLayout.dataFiles(under: directory.path)
    }

    /// Every entry, optionally of one connector, in file order (connector, month) then line order.
    /// A half-written last line (no newline) is ignored, as the sink ignores it. Throws
    /// `archive.key_required` for an encrypted file without a key, `archive.unknown_key` for a line
    /// sealed with a key not given, `archive.decrypt_failed` when a line fails authentication (a wrong
    /// key, altered data, or a line moved to another connector or operation), `archive.unreadable` for
    /// a line that is not an entry.
    public func entries(connector: String? = nil) throws(FileArchiveError) -> [ArchiveEntry] {
        try decodedLines(connector: connector).map(\.entry)
    }

    /// The id of the key each line is sealed with, by file (nil for a plain line): what `lethe archive
    /// rekey` would change.
    public func keyIDs() throws(FileArchiveError) -> [String: [String?]] {
        var result: [String: [String?]] = [:]
        for path in files() {
            result[path] = try decodedLines(in: path).map { decoded in
                switch decoded.sealing {
                case .plain: nil
                case .legacy(let id), .sealed(let id): id
                }
            }
        }
        return result
    }

    private func decodedLines(connector: String? = nil) throws(FileArchiveError) -> [ArchiveLineCodec.Decoded] {
        var result: [ArchiveLineCodec.Decoded] = []
        for path in files() where connector.map({ path.hasPrefix($0 + "/") }) ?? true {
            result += try decodedLines(in: path)
        }
        return result
    }

    private func decodedLines(in path: String) throws(FileArchiveError) -> [ArchiveLineCodec.Decoded] {
        let encrypted = ArchiveLayout.dataFileKind(String(path.split(separator: "/").last ?? "")).encrypted
        let connector = String(path.prefix { $0 != "/" })
        let bytes = try ArchiveFileSystem.readAll(directory.path + "/" + path)
        var result: [ArchiveLineCodec.Decoded] = []
        var start = 0
        var lineNumber = 0
        while let end = bytes[start...].firstIndex(of: 0x0A) {
            lineNumber += 1
            if end > start {
                result.append(
                    try codec.decode(
                        bytes[start..<end], encrypted: encrypted, connector: connector, file: path,
                        lineNumber: lineNumber))
            }
            start = end + 1
        }
        return result
    }

    /// Checks `MANIFEST.sha256` against the data files (no key needed).
    public func verifyManifest() throws(FileArchiveError) -> ManifestVerification {
        let manifestPath = directory.appendingPathComponent(ArchiveLayout.manifestName).path
        let present = Set(files())
        guard FileManager.default.fileExists(atPath: manifestPath) else {
            return ManifestVerification(unlisted: present.sorted(), manifestFound: false)
        }
        let (listed, malformed) = ArchiveManifest.parse(try ArchiveFileSystem.readAll(manifestPath))
        var report = ManifestVerification(malformedLines: malformed)
        for path in listed.keys.sorted() {
            let full = directory.path + "/" + path
            guard !path.split(separator: "/").contains(".."), FileManager.default.fileExists(atPath: full) else {
                report.missing.append(path)
                continue
            }
            if ArchiveManifest.hexDigest(try ArchiveFileSystem.readAll(full)) == listed[path] {
                report.verified.append(path)
            } else {
                report.mismatched.append(path)
            }
        }
        report.unlisted = present.subtracting(listed.keys).sorted()
        return report
    }
}
