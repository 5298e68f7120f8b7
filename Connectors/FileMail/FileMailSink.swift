import Foundation
import MailComposer
import PrivateFiles
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
///   fsynced. A crash leaves at most a `.tmp` file behind, never a partial `.eml`; the next write to
///   the folder removes such leftovers (they hold a message) and logs how many.
/// - The folder is 0700 and every file 0600 from its creation. Writers from several processes take
///   turns on an `flock` of the folder.
/// - A retry of a delivered notice writes nothing and returns the same receipt, the file name.
/// - A bad recipient, sender or extra header is a permanent `MailComposerError`; an operation id
///   that is not a safe file name is a permanent `FileMailError`; I/O errors are transient.
struct FileMailSink: BatchingNoticeSink {
    let directory: URL
    var log: LogFunction = { _, _, _ in }

    /// Creates the folder (0700), then runs `body` holding the folder's lock, after removing the
    /// temporary files an interrupted write left there.
    private func withFolder<T>(_ body: () throws -> T) throws -> T {
        do {
            try PrivateFiles.makeFolder(directory.path)
        } catch {
            throw FileMailError(code: "filemail.io", message: "cannot create the mail folder", isTransient: true)
        }
        return try PrivateFiles.withFolderLock(directory.path) { () throws -> T in
            let removed = PrivateFiles.removeLeftovers(in: directory.path) { $0.hasPrefix(".") && $0.hasSuffix(".tmp") }
            if !removed.isEmpty {
                log(.warning, "removed temporary files an interrupted write left in the mail folder", ["files": String(removed.count)])
            }
            return try body()
        }
    }

    /// Many notices with one durability step: every temporary file is written, the filesystem is
    /// synced once, then each is published (`link`) and the folder is synced once. The same files and
    /// guarantees as one `deliver(_:)` per notice.
    func deliver(_ notices: [Notice]) async -> [Result<String, any Error>] {
        var results = [Result<String, any Error>?](repeating: nil, count: notices.count)
        // The messages are composed on both cores at once (pure), then written in order.
        let half = max(1, (notices.count + 1) / 2)
        let messages = await withTaskGroup(of: (Int, [Result<[UInt8], any Error>]).self) { group in
            for start in stride(from: 0, to: notices.count, by: half) {
                group.addTask {
                    (start, notices[start..<min(start + half, notices.count)].map { notice in
                        Result {
                            guard Self.isSafeFileName(notice.operationID) else { throw FileMailError.badOperationID }
                            return try MIMEMessage(notice: notice).render()
                        }
                    })
                }
            }
            var parts: [(Int, [Result<[UInt8], any Error>])] = []
            for await part in group { parts.append(part) }
            return parts.sorted { $0.0 < $1.0 }.flatMap(\.1)
        }
        do {
            try withFolder {
                var written: [(index: Int, temporary: String, name: String)] = []
                defer { for item in written { unlink(item.temporary) } }
            for (index, notice) in notices.enumerated() {
                do {
                    let message = try messages[index].get()
                    let name = "\(notice.operationID).eml"
                    if FileManager.default.fileExists(atPath: directory.appendingPathComponent(name).path) {
                        results[index] = .success(name)
                        continue
                    }
                    let temporary = PrivateFiles.temporaryPath(near: directory.appendingPathComponent(name).path)
                    try Self.writeFile(message, to: temporary, sync: false)
                    written.append((index, temporary, name))
                } catch {
                    results[index] = .failure(error)
                }
            }
            if !written.isEmpty {
                do {
                    try Self.syncFileSystem(of: directory.path)
                    for item in written {
                        results[item.index] = Result { try self.publish(item.temporary, as: item.name) }
                    }
                    try Self.syncDirectory(directory.path)
                } catch {
                    for item in written where results[item.index].map({ if case .success = $0 { true } else { false } }) ?? true {
                        results[item.index] = .failure(error)
                    }
                }
            }
            }
        } catch {
            for index in results.indices where results[index] == nil { results[index] = .failure(error) }
        }
        return results.map { $0 ?? .failure(FileMailError(code: "filemail.io", message: "not delivered", isTransient: true)) }
    }

    func deliver(_ notice: Notice) async throws -> String {
        let message = try MIMEMessage(notice: notice)
        guard Self.isSafeFileName(notice.operationID) else { throw FileMailError.badOperationID }
        let name = "\(notice.operationID).eml"
        let target = directory.appendingPathComponent(name).path
        if FileManager.default.fileExists(atPath: target) { return name }

        return try withFolder {
            let temporary = PrivateFiles.temporaryPath(near: directory.appendingPathComponent(name).path)
            defer { unlink(temporary) }
            try Self.writeFile(message.render(), to: temporary, sync: true)
            let published = try publish(temporary, as: name)
            try Self.syncDirectory(directory.path)
            return published
        }
    }

    /// Gives a durable temporary file its final name, never replacing an existing one.
    private func publish(_ temporary: String, as name: String) throws(FileMailError) -> String {
        let target = directory.appendingPathComponent(name).path
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
        return name
    }

    /// Flushes every file of the filesystem that holds `path` to disk (one call for many files).
    static func syncFileSystem(of path: String) throws(FileMailError) {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw .io("cannot open the mail folder", errno: errno) }
        defer { close(descriptor) }
        #if os(Linux)
        guard linuxSyncFileSystem(descriptor) == 0 else { throw .io("cannot sync the mail folder's filesystem", errno: errno) }
        #else
        sync()
        #endif
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

    /// Creates `path` (which must not exist, mode 0600) and writes all of `bytes`, fsynced when `sync`.
    static func writeFile(_ bytes: [UInt8], to path: String, sync: Bool) throws(FileMailError) {
        do {
            try PrivateFiles.write(bytes, toNew: path, sync: sync)
        } catch {
            throw .io("cannot write a temporary file", errno: error.errno)
        }
    }

    /// Makes the new directory entry durable.
    static func syncDirectory(_ path: String) throws(FileMailError) {
        do {
            try PrivateFiles.syncFolder(path)
        } catch {
            throw .io("cannot fsync the mail folder", errno: error.errno)
        }
    }
}

#if os(Linux)
/// glibc's `syncfs(2)` (not exported by Swift's Glibc module): flushes one filesystem.
@_silgen_name("syncfs")
private func linuxSyncFileSystem(_ descriptor: Int32) -> Int32
#endif
