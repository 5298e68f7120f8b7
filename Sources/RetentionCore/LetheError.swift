import Foundation

/// The broad class of a failure. Categories map once to exit codes (see `ExitCode` in LetheCLI)
/// and, later, to HTTP statuses.
public enum ErrorCategory: String, Sendable, Codable {
    /// Bad usage or configuration: nothing was changed.
    case config
    /// Worth retrying later (network, rate limit, 5xx, locked file).
    case transient
    /// Retrying will not help (4xx, invalid data): the operation is dead-lettered.
    case permanent
    /// A safety rule stopped the work (limit exceeded, approval needed).
    case safety
}

/// Every error Lethe reports. `code` is stable (`config.unknown_key`); `message` is for people and
/// must never contain personal data or secrets.
public protocol LetheError: Error, CustomStringConvertible, Sendable {
    var code: String { get }
    var category: ErrorCategory { get }
    var message: String { get }
}

extension LetheError {
    public var description: String { message }
}

/// A failure a connector reports for one operation or call. The coordinator never parses messages:
/// it asks these properties.
public protocol ConnectorFailure: LetheError {
    /// Retrying later may succeed.
    var isTransient: Bool { get }
    /// The provider asked to wait this long before retrying.
    var retryAfter: Duration? { get }
    /// The target is already gone (404/410, `ENTITY_IS_DELETED`): a delete counts as done.
    var isAlreadyGone: Bool { get }
}

extension ConnectorFailure {
    public var category: ErrorCategory { isTransient ? .transient : .permanent }
    public var retryAfter: Duration? { nil }
    public var isAlreadyGone: Bool { false }
}

/// A general-purpose error with a code and category.
public struct GenericLetheError: LetheError, Equatable {
    public var code: String
    public var category: ErrorCategory
    public var message: String

    public init(code: String, category: ErrorCategory, message: String) {
        self.code = code
        self.category = category
        self.message = message
    }
}

/// A generic connector failure, for connectors that need nothing more specific.
public struct ConnectorError: ConnectorFailure, Equatable {
    public var code: String
    public var message: String
    public var isTransient: Bool
    public var isAlreadyGone: Bool
    public var retryAfterSeconds: Double?

    public var retryAfter: Duration? { retryAfterSeconds.map { .milliseconds(Int64($0 * 1000)) } }

    public init(code: String, message: String, isTransient: Bool, isAlreadyGone: Bool = false, retryAfterSeconds: Double? = nil) {
        self.code = code
        self.message = message
        self.isTransient = isTransient
        self.isAlreadyGone = isAlreadyGone
        self.retryAfterSeconds = retryAfterSeconds
    }
}
