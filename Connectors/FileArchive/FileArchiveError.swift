public import RetentionCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A failure of the file archive. I/O errors are transient; an unreadable archive line, a key that
/// does not open the archive or a connector name that cannot be a folder name are permanent.
/// Messages name files and line numbers, never field values or the key.
public struct FileArchiveError: ConnectorFailure, Equatable {
    public var code: String
    public var message: String
    public var isTransient: Bool

    public init(code: String, message: String, isTransient: Bool) {
        self.code = code
        self.message = message
        self.isTransient = isTransient
    }

    static func io(_ step: String, errno number: Int32) -> FileArchiveError {
        FileArchiveError(
            code: "archive.io", message: "\(step): \(String(cString: strerror(number)))", isTransient: true)
    }

    static func io(_ step: String) -> FileArchiveError {
        FileArchiveError(code: "archive.io", message: step, isTransient: true)
    }

    static func unreadable(_ file: String, line: Int) -> FileArchiveError {
        FileArchiveError(
            code: "archive.unreadable", message: "\(file):\(line): the archive line cannot be read", isTransient: false)
    }

    static func cannotDecrypt(_ file: String, line: Int) -> FileArchiveError {
        FileArchiveError(
            code: "archive.decrypt_failed",
            message: "\(file):\(line): the line does not decrypt with this key (wrong key or altered data)",
            isTransient: false
        )
    }

    static func unknownKey(_ file: String, line: Int, keyID: String) -> FileArchiveError {
        FileArchiveError(
            code: "archive.unknown_key",
            message: "\(file):\(line): the line is sealed with key \(keyID), which is not configured "
                + "(set it as `key` or in `previousKeys`)",
            isTransient: false
        )
    }

    static func notAuthentic(_ file: String, line: Int) -> FileArchiveError {
        FileArchiveError(
            code: "archive.decrypt_failed",
            message: "\(file):\(line): the line fails authentication (altered, or moved from another connector "
                + "or operation)",
            isTransient: false
        )
    }

    static func keyRequired(_ file: String) -> FileArchiveError {
        FileArchiveError(
            code: "archive.key_required", message: "\(file) is encrypted: a key is required", isTransient: false)
    }

    static let invalidKey = FileArchiveError(
        code: "archive.invalid_key", message: "the archive key must be base64 of exactly 32 bytes", isTransient: false
    )

    static let badConnectorName = FileArchiveError(
        code: "archive.bad_connector",
        message: "the connector name cannot be used as a folder name (letters, digits, '.', '_', '-' only)",
        isTransient: false
    )
}
