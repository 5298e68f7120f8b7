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

    /// Replaces `path` atomically: a temporary file in the same folder, fsynced, renamed over it,
    /// then the folder fsynced.
    static func replace(_ path: String, with bytes: [UInt8]) throws(FileArchiveError) {
        let temporary = "\(path).\(UUID().uuidString).tmp"
        defer { unlink(temporary) }
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard descriptor >= 0 else { throw .io("cannot create a temporary file", errno: errno) }
        do throws(FileArchiveError) {
            try writeAll(bytes, to: descriptor)
            guard fsync(descriptor) == 0 else { throw .io("cannot fsync a temporary file", errno: errno) }
        } catch {
            close(descriptor)
            throw error
        }
        close(descriptor)
        guard rename(temporary, path) == 0 else { throw .io("cannot replace an archive file", errno: errno) }
        try syncDirectory((path as NSString).deletingLastPathComponent)
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
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw .io("cannot open an archive folder", errno: errno) }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw .io("cannot fsync an archive folder", errno: errno) }
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
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                throw .io("cannot write an archive file", errno: errno)
            }
            offset += written
        }
    }
}
