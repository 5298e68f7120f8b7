import Foundation
import PrivateFiles

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The steps of an atomic, durable file replacement (PrivateFiles' shape), with the CSV connector's errors.
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
        do {
            return try PrivateFiles.createTemporary(near: path, mode: UInt32(mode))
        } catch {
            throw .io("cannot create a temporary file next to", path, errno: error.errno)
        }
    }

    static func writeAll(_ bytes: UnsafeBufferPointer<UInt8>, to descriptor: Int32, path: String)
        throws(CSVConnectorError)
    {
        do {
            try PrivateFiles.writeAll(UnsafeRawBufferPointer(bytes), to: descriptor, path: path)
        } catch {
            throw .io("cannot write a temporary file next to", path, errno: error.errno)
        }
    }

    static func sync(_ descriptor: Int32, path: String) throws(CSVConnectorError) {
        do {
            try PrivateFiles.sync(descriptor, path: path)
        } catch {
            throw .io("cannot fsync a temporary file next to", path, errno: error.errno)
        }
    }

    static func moveTemporary(_ temporary: String, over path: String) throws(CSVConnectorError) {
        do {
            try PrivateFiles.rename(temporary, over: path)
        } catch {
            throw .io("cannot replace", path, errno: error.errno)
        }
    }

    /// Fsyncs the folder of `path` so the rename survives a crash; returns the error text on failure.
    static func syncFolder(of path: String) -> String? {
        do {
            try PrivateFiles.syncFolder(PrivateFiles.folder(of: path))
            return nil
        } catch {
            return String(cString: strerror(error.errno))
        }
    }
}
