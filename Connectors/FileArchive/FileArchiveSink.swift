import Foundation
import RetentionCore

/// Separated storage in files: JSON Lines per connector and UTC month, optionally AES-256-GCM
/// encrypted line by line, with a SHA-256 manifest.
///
/// Contracts:
/// - Durable on return: every appended line is fsynced (and a new file's folder), then the manifest
///   is replaced atomically (temporary file, fsync, rename, folder fsync).
/// - Idempotent: an entry whose `operationID` is already in one of its connector's files (or twice
///   in one call) is not written again. The archive files themselves are the index: they are
///   rescanned whenever their size differs from what this process last saw, so a crash between an
///   append and anything after it, or a second process, never causes a duplicate. A line a crash
///   left half-written is cut off before the next append. Without a key, `.enc` files cannot be
///   read and are not consulted.
/// - Appends from several processes are serialised by an `flock` on `<directory>/.lock`.
/// - Never logs field values: only counts and file names.
actor FileArchiveSink: ArchiveSink {
    struct FileScan {
        var size: Int
        /// The length up to and including the last newline.
        var validLength: Int
        var operationIDs: Set<String>
    }

    let root: String
    let codec: ArchiveLineCodec
    let log: LogFunction
    private var scans: [String: FileScan] = [:]
    private var digests: [String: (size: Int, hex: String)] = [:]

    init(directory: URL, codec: ArchiveLineCodec, log: @escaping LogFunction) {
        self.root = directory.path
        self.codec = codec
        self.log = log
    }

    func archive(_ entries: [ArchiveEntry]) async throws -> String {
        guard entries.allSatisfy({ ArchiveLayout.isSafeConnectorName($0.connector) }) else {
            throw FileArchiveError.badConnectorName
        }
        try ArchiveFileSystem.createDirectory(root)
        return try ArchiveFileSystem.withLock(in: root) { () throws(FileArchiveError) -> String in
            try store(entries)
        }
    }

    private func store(_ entries: [ArchiveEntry]) throws(FileArchiveError) -> String {
        for connector in Set(entries.map(\.connector)).sorted() { try refresh(connector: connector) }
        var receipt = Set<String>()
        var pending: [String: (bytes: [UInt8], ids: Set<String>)] = [:]
        var skipped = 0
        for entry in entries {
            if let path = location(of: entry.operationID, connector: entry.connector)
                ?? pending.first(where: { $0.value.ids.contains(entry.operationID) })?.key
            {
                receipt.insert(path)
                skipped += 1
                continue
            }
            let path = ArchiveLayout.relativePath(
                connector: entry.connector, month: ArchiveLayout.month(of: entry.archivedAt),
                encrypted: codec.isEncrypted
            )
            pending[path, default: ([], [])].bytes += try codec.encode(entry) + [0x0A]
            pending[path, default: ([], [])].ids.insert(entry.operationID)
            receipt.insert(path)
        }
        for path in pending.keys.sorted() {
            guard let (bytes, ids) = pending[path] else { continue }
            let folder = root + "/" + path.prefix { $0 != "/" }
            try ArchiveFileSystem.createDirectory(folder)
            let previous = scans[path] ?? FileScan(size: 0, validLength: 0, operationIDs: [])
            try ArchiveFileSystem.append(bytes, to: root + "/" + path, validLength: previous.validLength)
            let size = previous.validLength + bytes.count
            scans[path] = FileScan(size: size, validLength: size, operationIDs: previous.operationIDs.union(ids))
        }
        try writeManifest()
        let written = entries.count - skipped
        log(
            .info, "file archive stored entries",
            ["stored": "\(written)", "skipped": "\(skipped)", "files": "\(pending.count)"])
        return receipt.isEmpty ? "no entries" : receipt.sorted().joined(separator: ", ")
    }

    /// The file holding `operationID` for this connector, if any.
    private func location(of operationID: String, connector: String) -> String? {
        scans.first { $0.key.hasPrefix(connector + "/") && $0.value.operationIDs.contains(operationID) }?.key
    }

    /// Rescans the connector's readable data files whose size changed since they were last seen.
    private func refresh(connector: String) throws(FileArchiveError) {
        let folder = root + "/" + connector
        let files = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        var present = Set<String>()
        for name in files {
            let kind = ArchiveLayout.dataFileKind(name)
            guard kind.isData, !kind.encrypted || codec.isEncrypted else { continue }
            let path = "\(connector)/\(name)"
            present.insert(path)
            let size = Self.size(of: root + "/" + path)
            if scans[path]?.size == size { continue }
            scans[path] = try scan(path, encrypted: kind.encrypted)
        }
        for path in scans.keys where path.hasPrefix(connector + "/") && !present.contains(path) {
            scans[path] = nil
        }
    }

    private func scan(_ path: String, encrypted: Bool) throws(FileArchiveError) -> FileScan {
        let bytes = try ArchiveFileSystem.readAll(root + "/" + path)
        var ids = Set<String>()
        var start = 0
        var lineNumber = 0
        while let end = bytes[start...].firstIndex(of: 0x0A) {
            lineNumber += 1
            if end > start {
                ids.insert(
                    try codec.decode(bytes[start..<end], encrypted: encrypted, file: path, lineNumber: lineNumber)
                        .operationID)
            }
            start = end + 1
        }
        return FileScan(size: bytes.count, validLength: start, operationIDs: ids)
    }

    private func writeManifest() throws(FileArchiveError) {
        var current: [String: String] = [:]
        for path in ArchiveLayout.dataFiles(under: root) {
            let size = Self.size(of: root + "/" + path)
            if let cached = digests[path], cached.size == size {
                current[path] = cached.hex
                continue
            }
            let bytes = try ArchiveFileSystem.readAll(root + "/" + path)
            let hex = ArchiveManifest.hexDigest(bytes)
            digests[path] = (bytes.count, hex)
            current[path] = hex
        }
        try ArchiveFileSystem.replace(root + "/" + ArchiveLayout.manifestName, with: ArchiveManifest.render(current))
    }

    private static func size(of path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? -1
    }
}
