import Foundation
import RetentionCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A key generated once and kept in the state folder (`archive-key`, mode 0600, base64 text), for
/// `generateKey: true`. It protects the archive only as well as the state folder is protected, and
/// without it the archive cannot be read: it must be backed up apart from the state.
enum ArchiveKeyFile {
    static let name = "archive-key"

    static func url(in stateDirectory: URL) -> URL { stateDirectory.appendingPathComponent(name) }

    /// The key in the file; nil when there is no file. Throws when the file is not base64 of 32 bytes.
    static func read(_ file: URL) throws(FileArchiveError) -> [UInt8]? {
        guard FileManager.default.fileExists(atPath: file.path) else { return nil }
        // A key being written by another process at this very moment: wait for it briefly.
        for attempt in 0..<20 {
            let text = String(decoding: (try? Data(contentsOf: file)) ?? Data(), as: UTF8.self)
            if let key = ArchiveKeyring.keyBytes(base64: text) { return key }
            if attempt < 19 { usleep(50_000) }
        }
        throw FileArchiveError(
            code: "archive.invalid_key_file", message: "\(file.path) does not hold base64 of exactly 32 bytes",
            isTransient: false)
    }

    /// The key in the file, generated first when there is none: created with `O_CREAT | O_EXCL`
    /// and mode 0600 (never replacing a key), written and fsynced, with its folder. Logs one warning
    /// naming the file when it generates one.
    static func loadOrCreate(in stateDirectory: URL, log: LogFunction, connector: String) throws(FileArchiveError)
        -> [UInt8]
    {
        let file = url(in: stateDirectory)
        if let key = try read(file) { return key }
        try ArchiveFileSystem.createDirectory(stateDirectory.path)
        let descriptor = open(file.path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard descriptor >= 0 else {
            if errno == EEXIST, let key = try read(file) { return key }
            throw .io("cannot create the archive key file", errno: errno)
        }
        var generator = SystemRandomNumberGenerator()
        let key = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        do throws(FileArchiveError) {
            try ArchiveFileSystem.writeAll(Array((Data(key).base64EncodedString() + "\n").utf8), to: descriptor)
            guard fsync(descriptor) == 0 else { throw .io("cannot fsync the archive key file", errno: errno) }
        } catch {
            close(descriptor)
            unlink(file.path)
            throw error
        }
        close(descriptor)
        try ArchiveFileSystem.syncDirectory(stateDirectory.path)
        log(
            .warning,
            "generated the archive key: back this file up apart from the state folder; "
                + "without it the archive cannot be read",
            ["connector": connector, "file": file.path])
        return key
    }
}
