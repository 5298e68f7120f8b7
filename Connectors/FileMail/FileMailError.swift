public import RetentionCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A failure of the file mail sink. I/O problems are transient (a full disk or a missing mount may
/// be fixed before the next attempt); an operation id that cannot be a file name is permanent.
/// Messages name the step and the system error, never the recipient or the message text.
public struct FileMailError: ConnectorFailure, Equatable {
    public var code: String
    public var message: String
    public var isTransient: Bool

    public init(code: String, message: String, isTransient: Bool) {
        self.code = code
        self.message = message
        self.isTransient = isTransient
    }

    static func io(_ step: String, errno number: Int32) -> FileMailError {
        FileMailError(code: "filemail.io", message: "\(step): \(String(cString: strerror(number)))", isTransient: true)
    }

    static let badOperationID = FileMailError(
        code: "filemail.bad_operation_id",
        message: "the operation id cannot be used as a file name (letters, digits, '.', '_', '-' only)",
        isTransient: false
    )
}
