import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The POSIX steps of an atomic, durable file replacement.
enum CSVFileSystem {
    /// What identifies one version of a file: a rename over it or a write into it changes this.
    struct Identity: Equatable {
        var device: UInt64
        var inode: UInt64
        var size: Int64
        var modifiedSeconds: Int64
        var modifiedNanoseconds: Int64
        var mode: mode_t
    }

    static func identity(of path: String) throws(CSVConnectorError) -> Identity {
        var status = stat()
        guard stat(path, &status) == 0 else {
            let number = errno
            if number == ENOENT { throw .fileMissing(path) }
            throw .io("cannot stat", path, errno: number)
        }
        #if canImport(Darwin)
            let modified = status.st_mtimespec
        #else
            let modified = status.st_mtim
        #endif
        return Identity(
            device: UInt64(status.st_dev), inode: UInt64(status.st_ino), size: Int64(status.st_size),
            modifiedSeconds: Int64(modified.tv_sec), modifiedNanoseconds: Int64(modified.tv_nsec),
            mode: status.st_mode & 0o7777)
    }

    /// Creates a new temporary file next to `path` with the given permissions.
    static func createTemporary(near path: String, mode: mode_t) throws(CSVConnectorError) -> (String, Int32) {
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).lethe-\(UUID().uuidString).tmp").path
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard descriptor >= 0 else { throw .io("cannot create a temporary file next to", path, errno: errno) }
        _ = fchmod(descriptor, mode)
        return (temporary, descriptor)
    }

    static func writeAll(_ bytes: UnsafeBufferPointer<UInt8>, to descriptor: Int32, path: String)
        throws(CSVConnectorError)
    {
        var offset = 0
        while offset < bytes.count {
            let written = write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw .io("cannot write a temporary file next to", path, errno: errno)
            }
            offset += written
        }
    }

    static func sync(_ descriptor: Int32, path: String) throws(CSVConnectorError) {
        guard fsync(descriptor) == 0 else { throw .io("cannot fsync a temporary file next to", path, errno: errno) }
    }

    static func moveTemporary(_ temporary: String, over path: String) throws(CSVConnectorError) {
        guard rename(temporary, path) == 0 else { throw .io("cannot replace", path, errno: errno) }
    }

    /// Fsyncs the folder of `path` so the rename survives a crash; returns the error text on failure.
    static func syncFolder(of path: String) -> String? {
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        let descriptor = open(folder, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return String(cString: strerror(errno)) }
        defer { close(descriptor) }
        return fsync(descriptor) == 0 ? nil : String(cString: strerror(errno))
    }
}
