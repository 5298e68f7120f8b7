import Foundation
import PrivateFiles

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The few durable file operations the archive needs, over POSIX calls so that every step can be
/// fsynced.
enum ArchiveFileSystem {
    static func readAll(_ path: String) throws(FileArchiveError) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .io("cannot read \(URL(fileURLWithPath: path).lastPathComponent)")
        }
        return Array(data)
    }

    /// Appends `bytes` to `path` (created when missing) and fsyncs it. When `validLength` is less
    /// than the file's size, the file is first cut back to it: that tail is a line a crash left
    /// half-written, never acknowledged to anyone. A new file's folder is fsynced too.
    static func append(_ bytes: [UInt8], to path: String, validLength: Int) throws(FileArchiveError) {
        let existed = FileManager.default.fileExists(atPath: path)
        let descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        guard descriptor >= 0 else { throw .io("cannot open an archive file", errno: errno) }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw .io("cannot stat an archive file", errno: errno) }
        if Int(status.st_size) > validLength {
            guard ftruncate(descriptor, off_t(validLength)) == 0 else {
                throw .io("cannot repair an archive file", errno: errno)
            }
        }
        try writeAll(bytes, to: descriptor)
        guard fsync(descriptor) == 0 else { throw .io("cannot fsync an archive file", errno: errno) }
        if !existed { try syncDirectory((path as NSString).deletingLastPathComponent) }
    }

    /// Replaces `path` atomically: a temporary file in the same folder (0600), fsynced, renamed over
    /// it, then the folder fsynced.
    static func replace(_ path: String, with bytes: [UInt8]) throws(FileArchiveError) {
        do {
            try PrivateFiles.replace(path, with: bytes)
        } catch {
            throw .io("cannot replace an archive file", errno: error.errno)
        }
    }

    /// Removes the temporary files an interrupted replacement left in the archive folder and its
    /// connectors' folders (they hold archived entries); call it holding the archive's lock.
    static func removeLeftovers(in root: String) -> Int {
        // `.<name>.lethe-<id>.tmp`, and `<name>.<UUID>.tmp` of earlier versions.
        let isLeftover: (String) -> Bool = { name in
            PrivateFiles.isTemporary(name) || (name.hasSuffix(".tmp") && (name.hasPrefix(ArchiveLayout.manifestName) || name.contains(".jsonl")))
        }
        var removed = PrivateFiles.removeLeftovers(in: root, where: isLeftover).count
        for name in (try? PrivateFiles.entries(of: root)) ?? [] where !name.hasPrefix(".") {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: root + "/" + name, isDirectory: &isFolder), isFolder.boolValue else { continue }
            removed += PrivateFiles.removeLeftovers(in: root + "/" + name, where: isLeftover).count
        }
        return removed
    }

    /// Removes `path` (gone already is fine) and fsyncs its folder.
    static func remove(_ path: String) throws(FileArchiveError) {
        guard unlink(path) == 0 || errno == ENOENT else { throw .io("cannot remove an archive file", errno: errno) }
        try syncDirectory((path as NSString).deletingLastPathComponent)
    }

    /// Creates the folder (and missing parents) 0700; an existing one is tightened to 0700.
    static func createDirectory(_ path: String) throws(FileArchiveError) {
        do {
            try PrivateFiles.makeFolder(path)
        } catch {
            throw .io("cannot create an archive folder")
        }
    }

    static func syncDirectory(_ path: String) throws(FileArchiveError) {
        do {
            try PrivateFiles.syncFolder(path)
        } catch {
            throw .io("cannot fsync an archive folder", errno: error.errno)
        }
    }

    /// Runs `body` holding an exclusive `flock` on `<directory>/.lock`, so that two processes never
    /// append to the same archive at once.
    static func withLock<T>(in directory: String, _ body: () throws(FileArchiveError) -> T) throws(FileArchiveError)
        -> T
    {
        let descriptor = open(directory + "/.lock", O_RDWR | O_CREAT, 0o600)
        guard descriptor >= 0 else { throw .io("cannot open the archive lock", errno: errno) }
        defer { close(descriptor) }
        while flock(descriptor, LOCK_EX) != 0 {
            guard errno == EINTR else { throw .io("cannot lock the archive", errno: errno) }
        }
        defer { flock(descriptor, LOCK_UN) }
        return try body()
    }

    static func writeAll(_ bytes: [UInt8], to descriptor: Int32) throws(FileArchiveError) {
        do {
            try PrivateFiles.writeAll(bytes, to: descriptor, path: "archive")
        } catch {
            throw .io("cannot write an archive file", errno: error.errno)
        }
    }
}
