import Foundation
import RetentionCore

/// Entries removed from one month file of one connector by a purge.
public struct ArchivePurge: Sendable, Equatable, Codable {
    public var connector: String
    /// `YYYY-MM`, the UTC month of the entries' `archivedAt`.
    public var month: String
    public var entries: Int
    /// True when the whole file was removed (every entry in it had expired).
    public var removedFile: Bool

    public init(connector: String, month: String, entries: Int, removedFile: Bool) {
        self.connector = connector
        self.month = month
        self.entries = entries
        self.removedFile = removedFile
    }
}

/// What `rekey` did.
public struct ArchiveRekey: Sendable, Equatable, Codable {
    /// The id of the key every entry is now sealed with.
    public var keyID: String
    /// Month files rewritten (files already entirely under the current key are left alone).
    public var filesRewritten: Int
    /// Entries sealed again under the current key.
    public var entries: Int
    /// Plain `.jsonl` files whose entries now live, sealed, in the `.enc` file of their month.
    public var plainFilesEncrypted: Int
}

extension FileArchiveSink {
    /// Rewrites every month file so that each entry is sealed with the current key, with its
    /// associated data: lines of a previous key, lines of the legacy format and plain `.jsonl` files
    /// (merged into the `.enc` file of their month, the plain file then removed). Each file is
    /// replaced atomically (temporary file 0600, fsync, rename, folder fsync), then the manifest.
    /// Fails before changing anything in a month whose lines cannot all be read.
    func rekey() throws(FileArchiveError) -> ArchiveRekey {
        guard let current = codec.keyring.current else {
            throw FileArchiveError(
                code: "archive.rekey_without_key",
                message:
                    "no current key to seal with: set `key` (or `generateKey: true`) "
                    + "and keep the old key in `previousKeys`",
                isTransient: false)
        }
        guard FileManager.default.fileExists(atPath: root) else {
            return ArchiveRekey(keyID: current.id, filesRewritten: 0, entries: 0, plainFilesEncrypted: 0)
        }
        return try ArchiveFileSystem.withLock(in: root) { () throws(FileArchiveError) -> ArchiveRekey in
            var report = ArchiveRekey(keyID: current.id, filesRewritten: 0, entries: 0, plainFilesEncrypted: 0)
            let groups = Dictionary(grouping: ArchiveLayout.dataFiles(under: root)) { Self.monthKey(of: $0) }
            for key in groups.keys.sorted() {
                let paths = groups[key] ?? []
                let sealedPath = key + ArchiveLayout.encryptedExtension
                var entries: [ArchiveEntry] = []
                var seen = Set<String>()
                var upToDate = true
                for path in paths.sorted(by: {
                    $0.hasSuffix(ArchiveLayout.encryptedExtension) && !$1.hasSuffix(ArchiveLayout.encryptedExtension)
                }) {
                    let bytes = try ArchiveFileSystem.readAll(root + "/" + path)
                    _ = try forEachLine(bytes, path: path) { decoded, _ in
                        if decoded.sealing != .sealed(keyID: current.id) { upToDate = false }
                        if seen.insert(decoded.entry.operationID).inserted { entries.append(decoded.entry) }
                    }
                    if path != sealedPath { upToDate = false }
                }
                if upToDate { continue }
                var bytes: [UInt8] = []
                for entry in entries { bytes += try codec.encode(entry) + [0x0A] }
                try ArchiveFileSystem.replace(root + "/" + sealedPath, with: bytes)
                for path in paths where path != sealedPath {
                    try ArchiveFileSystem.remove(root + "/" + path)
                    report.plainFilesEncrypted += 1
                }
                for path in paths + [sealedPath] { forget(path) }
                report.filesRewritten += 1
                report.entries += entries.count
            }
            try writeManifest()
            log(
                .info, "file archive sealed again under the current key",
                ["key": current.id, "files": "\(report.filesRewritten)", "entries": "\(report.entries)"])
            return report
        }
    }

    /// Removes the entries whose `archivedAt` plus `keep` is at or before the clock's now (UTC
    /// calendar arithmetic): a month whose every entry has expired is removed whole (no key needed),
    /// a month partly expired is rewritten atomically without its expired lines; then the manifest.
    /// Returns what was removed, by connector and month, for the audit log. Nothing without `keep`.
    func purge() throws(FileArchiveError) -> [ArchivePurge] {
        guard let keep, FileManager.default.fileExists(atPath: root) else { return [] }
        let now = clock.now()
        let utc = TimeZone(identifier: "UTC")!
        return try ArchiveFileSystem.withLock(in: root) { () throws(FileArchiveError) -> [ArchivePurge] in
            var removed: [String: ArchivePurge] = [:]
            for path in ArchiveLayout.dataFiles(under: root) {
                let key = Self.monthKey(of: path)
                let connector = String(path.prefix { $0 != "/" })
                let month = String(key.dropFirst(connector.count + 1))
                guard let (start, end) = Self.bounds(ofMonth: month) else { continue }
                if keep.added(to: start, in: utc) > now { continue }
                let bytes = try ArchiveFileSystem.readAll(root + "/" + path)
                var kept: [UInt8] = []
                var count = 0
                if keep.added(to: end, in: utc) <= now {
                    count =
                        bytes.split(separator: 0x0A, omittingEmptySubsequences: false).dropLast()
                        .filter { !$0.isEmpty }.count
                    try ArchiveFileSystem.remove(root + "/" + path)
                } else {
                    _ = try forEachLine(bytes, path: path) { decoded, line in
                        if keep.added(to: decoded.entry.archivedAt, in: utc) <= now {
                            count += 1
                        } else {
                            kept += line + [0x0A]
                        }
                    }
                    if count > 0 { try ArchiveFileSystem.replace(root + "/" + path, with: kept) }
                }
                forget(path)
                let whole = !FileManager.default.fileExists(atPath: root + "/" + path)
                var purge =
                    removed[key] ?? ArchivePurge(connector: connector, month: month, entries: 0, removedFile: true)
                purge.entries += count
                purge.removedFile = purge.removedFile && whole
                removed[key] = purge
            }
            try writeManifest()
            let result = removed.keys.sorted().compactMap { removed[$0] }.filter { $0.entries > 0 }
            if !result.isEmpty {
                log(
                    .info, "file archive purged expired entries",
                    ["entries": "\(result.map(\.entries).reduce(0, +))", "months": "\(result.count)"])
            }
            return result
        }
    }

    private func forget(_ path: String) {
        scans[path] = nil
        digests[path] = nil
    }

    /// `connector/YYYY-MM` of a data file path.
    static func monthKey(of path: String) -> String {
        for suffix in [ArchiveLayout.encryptedExtension, ArchiveLayout.plainExtension] where path.hasSuffix(suffix) {
            return String(path.dropLast(suffix.count))
        }
        return path
    }

    /// The first instant of `YYYY-MM` and of the month after, in UTC.
    static func bounds(ofMonth month: String) -> (Date, Date)? {
        let parts = month.split(separator: "-")
        guard parts.count == 2, let year = Int(parts[0]), let number = Int(parts[1]), (1...12).contains(number) else {
            return nil
        }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        guard let start = calendar.date(from: DateComponents(year: year, month: number, day: 1)),
            let end = calendar.date(byAdding: .month, value: 1, to: start)
        else { return nil }
        return (start, end)
    }
}
