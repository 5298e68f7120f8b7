public import Foundation
public import RetentionCore

/// Reads a file archive back: entries (decrypted with the key) and the manifest check. Used by
/// tests, by restores and by audits; it never writes.
public struct FileArchiveReader: Sendable {
    public let directory: URL
    private let codec: ArchiveLineCodec

    /// `key` is the same base64 text as the connector's `key` setting; nil or empty reads only
    /// unencrypted files. Throws `archive.invalid_key` for a key that is not base64 of 32 bytes.
    public init(directory: URL, key: String? = nil) throws(FileArchiveError) {
        self.directory = directory
        guard let key, !key.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            codec = ArchiveLineCodec(keyBytes: nil)
            return
        }
        guard let bytes = ArchiveLineCodec.keyBytes(base64: key) else { throw .invalidKey }
        codec = ArchiveLineCodec(keyBytes: bytes)
    }

    /// The data files, as sorted relative paths (`contacts/2026-11.jsonl.enc`).
    public func files() -> [String] {
        ArchiveLayout.dataFiles(under: directory.path)
    }

    /// Every entry, optionally of one connector, in file order (connector, month) then line order.
    /// A half-written last line (no newline) is ignored, as the sink ignores it. Throws
    /// `archive.key_required` for an encrypted file without a key, `archive.decrypt_failed` when the
    /// key does not open a line, `archive.unreadable` for a line that is not an entry.
    public func entries(connector: String? = nil) throws(FileArchiveError) -> [ArchiveEntry] {
        var result: [ArchiveEntry] = []
        for path in files() where connector.map({ path.hasPrefix($0 + "/") }) ?? true {
            let encrypted = ArchiveLayout.dataFileKind(String(path.split(separator: "/").last ?? "")).encrypted
            let bytes = try ArchiveFileSystem.readAll(directory.path + "/" + path)
            var start = 0
            var lineNumber = 0
            while let end = bytes[start...].firstIndex(of: 0x0A) {
                lineNumber += 1
                if end > start {
                    result.append(
                        try codec.decode(bytes[start..<end], encrypted: encrypted, file: path, lineNumber: lineNumber))
                }
                start = end + 1
            }
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
