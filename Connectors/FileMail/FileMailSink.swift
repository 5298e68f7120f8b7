import Foundation
import MailComposer
import RetentionCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writes each notice as `<directory>/<operationID>.eml`.
///
/// Contracts:
/// - At most one file per operation id, written completely or not at all: the message goes to a
///   hidden temporary file, is fsynced, then published under its final name with `link(2)` (which
///   never replaces an existing file; `rename(2)` where links are unsupported), and the folder is
///   fsynced. A crash leaves at most a `.tmp` file behind, never a partial `.eml`.
/// - A retry of a delivered notice writes nothing and returns the same receipt, the file name.
/// - A bad recipient, sender or extra header is a permanent `MailComposerError`; an operation id
///   that is not a safe file name is a permanent `FileMailError`; I/O errors are transient.
struct FileMailSink: NoticeSink {
    let directory: URL

    func deliver(_ notice: Notice) async throws -> String {
        let message = try MIMEMessage(notice: notice)
        guard Self.isSafeFileName(notice.operationID) else { throw FileMailError.badOperationID }
        let name = "\(notice.operationID).eml"
        let target = directory.appendingPathComponent(name).path
        if FileManager.default.fileExists(atPath: target) { return name }

        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw FileMailError(code: "filemail.io", message: "cannot create the mail folder", isTransient: true)
        }
        let temporary = directory.appendingPathComponent(".\(name).\(UUID().uuidString).tmp").path
        defer { unlink(temporary) }
        try Self.writeDurably(message.render(), to: temporary)
        if link(temporary, target) != 0 {
            let number = errno
            switch number {
            case EEXIST: return name
            case EPERM, ENOTSUP, EXDEV, EMLINK:
                if FileManager.default.fileExists(atPath: target) { return name }
                guard rename(temporary, target) == 0 else {
                    throw FileMailError.io("cannot publish \(name)", errno: errno)
                }
            default:
                throw FileMailError.io("cannot publish \(name)", errno: number)
            }
        }
        try Self.syncDirectory(directory.path)
        return name
    }

    /// Letters, digits, `.`, `_` and `-`, not starting with a dot, at most 200 characters.
    static func isSafeFileName(_ id: String) -> Bool {
        guard !id.isEmpty, id.utf8.count <= 200, !id.hasPrefix(".") else { return false }
        return id.unicodeScalars.allSatisfy { scalar in
            switch scalar {
            case "a"..."z", "A"..."Z", "0"..."9", ".", "_", "-": true
            default: false
            }
        }
    }

    /// Creates `path` (which must not exist), writes all of `bytes` and fsyncs it.
    static func writeDurably(_ bytes: [UInt8], to path: String) throws(FileMailError) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o640)
        guard descriptor >= 0 else { throw .io("cannot create a temporary file", errno: errno) }
        defer { close(descriptor) }
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                throw .io("cannot write a temporary file", errno: errno)
            }
            offset += written
        }
        guard fsync(descriptor) == 0 else { throw .io("cannot fsync a temporary file", errno: errno) }
    }

    /// Makes the new directory entry durable.
    static func syncDirectory(_ path: String) throws(FileMailError) {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw .io("cannot open the mail folder", errno: errno) }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw .io("cannot fsync the mail folder", errno: errno) }
    }
}
