public import Foundation
import PrivateFiles
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `ConnectorRunLock` for one host: an exclusive `flock` on `<folder>/<connector>.lock` (created 0600).
/// The kernel drops the lock when its process dies, so a killed run never blocks the next one. Two
/// leases in one process exclude each other too (each opens its own file description).
public struct FileRunLock: ConnectorRunLock {
    public let folder: URL
    /// How often a waiting run tries again.
    public var poll: Duration = .milliseconds(100)

    public init(folder: URL) { self.folder = folder }

    public func acquire(connector: String, wait: Duration) async throws -> RunLease {
        do {
            try PrivateFiles.makeFolder(folder.path)
        } catch {
            throw StoreError(code: "store.lock", message: "cannot create the lock folder: \(error.description)")
        }
        let path = folder.appendingPathComponent(Self.fileName(connector)).path
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw StoreError(code: "store.lock", message: "cannot open the run lock \(path): \(String(cString: strerror(errno)))")
        }
        let deadline = ContinuousClock.now + wait
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            let failure = errno
            guard failure == EWOULDBLOCK || failure == EINTR else {
                close(descriptor)
                throw StoreError(code: "store.lock", message: "cannot lock \(path): \(String(cString: strerror(failure)))")
            }
            guard ContinuousClock.now < deadline else {
                close(descriptor)
                throw RunInProgress(connector: connector)
            }
            do {
                try await Task.sleep(for: poll)
            } catch {
                close(descriptor)
                throw error
            }
        }
        return RunLease {
            flock(descriptor, LOCK_UN)
            close(descriptor)
        }
    }

    /// Blocks until this process holds an exclusive `flock` on the file at `path` (created 0600); for
    /// short critical sections such as opening and migrating a database.
    static func exclusive(_ path: String) throws -> RunLease {
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw StoreError(code: "store.lock", message: "cannot open the lock \(path): \(String(cString: strerror(errno)))")
        }
        while flock(descriptor, LOCK_EX) != 0 {
            guard errno == EINTR else {
                close(descriptor)
                throw StoreError(code: "store.lock", message: "cannot lock \(path): \(String(cString: strerror(errno)))")
            }
        }
        return RunLease {
            flock(descriptor, LOCK_UN)
            close(descriptor)
        }
    }

    /// A file name for any connector name: letters, digits, `-` and `_` kept, anything else hex-escaped.
    static func fileName(_ connector: String) -> String {
        var name = ""
        for byte in connector.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "_"):
                name.append(Character(Unicode.Scalar(byte)))
            default:
                name += String(format: "%%%02X", byte)
            }
        }
        return name + ".lock"
    }
}
