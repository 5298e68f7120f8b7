import Foundation
import RetentionCore

/// Separated storage in files: JSON Lines per connector and UTC month, AES-256-GCM encrypted line by
/// line (unless configured `encrypt: false`), with a SHA-256 manifest.
///
/// Contracts:
/// - Durable on return: every appended line is fsynced (and a new file's folder), then the manifest
///   is replaced atomically (temporary file, fsync, rename, folder fsync).
/// - Idempotent: an entry whose `operationID` is already in one of its connector's files (or twice
///   in one call) is not written again. The archive files themselves are the index: they are
///   rescanned whenever they differ from what this process last saw (size, inode or modification
///   time), so a crash between an append and anything after it, a second process, or a rewrite by
///   `lethe archive rekey` or a purge never causes a duplicate. A line a crash left half-written is
///   cut off before the next append.
/// - Fails closed: every line of the connector's files must be read before anything is appended.
///   A sealed line whose key is not configured (`archive.unknown_key`), an `.enc` file without any
///   key (`archive.key_required`) or a line that fails authentication is a permanent failure of the
///   whole call; nothing is written, never an entry again in plain text.
/// - Appends, rewrites and purges from several processes are serialised by an `flock` on
///   `<directory>/.lock`.
/// - Never logs field values: only counts and file names.
actor FileArchiveSink: ArchiveSink {
    struct FileScan {
        var identity: FileIdentity
        /// The length up to and including the last newline.
        var validLength: Int
        var operationIDs: Set<String>
    }

    let root: String
    let codec: ArchiveLineCodec
    let keep: Period?
    let clock: any LetheClock
    let log: LogFunction
    var scans: [String: FileScan] = [:]
    var digests: [String: (identity: FileIdentity, hex: String)] = [:]

    init(
        directory: URL, codec: ArchiveLineCodec, keep: Period? = nil, clock: any LetheClock, log: @escaping LogFunction
    ) {
        self.root = directory.path
        self.codec = codec
        self.keep = keep
        self.clock = clock
        self.log = log
    }

    func archive(_ entries: [ArchiveEntry]) async throws -> String {
        guard entries.allSatisfy({ ArchiveLayout.isSafeConnectorName($0.connector) }) else {
            throw FileArchiveError.badConnectorName
        }
        try ArchiveFileSystem.createDirectory(root)
        return try ArchiveFileSystem.withLock(in: root) { () throws(FileArchiveError) -> String in
            let removed = ArchiveFileSystem.removeLeftovers(in: root)
            if removed > 0 {
                log(.warning, "removed temporary files an interrupted archive write left", ["files": String(removed)])
            }
            return try store(entries)
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
            let previous = scans[path]
            let validLength = previous?.validLength ?? 0
            try ArchiveFileSystem.append(bytes, to: root + "/" + path, validLength: validLength)
            scans[path] = FileScan(
                identity: FileIdentity(of: root + "/" + path), validLength: validLength + bytes.count,
                operationIDs: (previous?.operationIDs ?? []).union(ids))
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

    /// Rescans the connector's data files that changed since they were last seen. Every file is
    /// read, encrypted or not: one this process cannot read fails the call.
    func refresh(connector: String) throws(FileArchiveError) {
        let folder = root + "/" + connector
        let files = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        var present = Set<String>()
        for name in files where ArchiveLayout.dataFileKind(name).isData {
            let path = "\(connector)/\(name)"
            present.insert(path)
            if scans[path]?.identity == FileIdentity(of: root + "/" + path) { continue }
            scans[path] = try scan(path)
        }
        for path in scans.keys where path.hasPrefix(connector + "/") && !present.contains(path) {
            scans[path] = nil
        }
    }

    private func scan(_ path: String) throws(FileArchiveError) -> FileScan {
        let identity = FileIdentity(of: root + "/" + path)
        let bytes = try ArchiveFileSystem.readAll(root + "/" + path)
        var ids = Set<String>()
        let validLength = try forEachLine(bytes, path: path) { decoded, _ in ids.insert(decoded.entry.operationID) }
        return FileScan(identity: identity, validLength: validLength, operationIDs: ids)
    }

    /// Decodes every complete line of `bytes` (the file `path`), calling `body` with each entry and
    /// the line's bytes; returns the length up to and including the last newline.
    func forEachLine(
        _ bytes: [UInt8], path: String,
        _ body: (ArchiveLineCodec.Decoded, ArraySlice<UInt8>) throws(FileArchiveError) -> Void
    ) throws(FileArchiveError) -> Int {
        let connector = String(path.prefix { $0 != "/" })
        let encrypted = ArchiveLayout.dataFileKind(String(path.split(separator: "/").last ?? "")).encrypted
        var start = 0
        var lineNumber = 0
        while let end = bytes[start...].firstIndex(of: 0x0A) {
            lineNumber += 1
            if end > start {
                let line = bytes[start..<end]
                try body(
                    try codec.decode(
                        line, encrypted: encrypted, connector: connector, file: path, lineNumber: lineNumber),
                    line)
            }
            start = end + 1
        }
        return start
    }

    func writeManifest() throws(FileArchiveError) {
        var current: [String: String] = [:]
        for path in ArchiveLayout.dataFiles(under: root) {
            let identity = FileIdentity(of: root + "/" + path)
            if let cached = digests[path], cached.identity == identity {
                current[path] = cached.hex
                continue
            }
            let hex = ArchiveManifest.hexDigest(try ArchiveFileSystem.readAll(root + "/" + path))
            digests[path] = (identity, hex)
            current[path] = hex
        }
        try ArchiveFileSystem.replace(root + "/" + ArchiveLayout.manifestName, with: ArchiveManifest.render(current))
    }
}

/// What tells a file's version apart without reading it: size, inode (a rewrite renames a new file
/// over it) and modification time.
struct FileIdentity: Equatable {
    var size: Int
    var inode: UInt64
    var modified: Date?

    init(of path: String) {
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        size = (attributes?[.size] as? NSNumber)?.intValue ?? -1
        inode = (attributes?[.systemFileNumber] as? NSNumber)?.uint64Value ?? 0
        modified = attributes?[.modificationDate] as? Date
    }
}
