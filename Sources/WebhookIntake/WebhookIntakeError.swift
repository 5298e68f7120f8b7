public import RetentionCore

/// A delivery whose body cannot be read as events. The message never contains body content: only what was
/// expected and, for arrays, the position of the offending event.
public struct WebhookIntakeError: LetheError, Equatable {
    public var code: String
    public var message: String

    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }

    /// The sender's fault and not worth retrying as is: the server answers 400 and persists nothing.
    public var category: ErrorCategory { .config }

    /// The HTTP status the intake route answers with.
    public var httpStatus: Int { 400 }

    /// The body is not JSON.
    public static let malformedJSON = Self(code: "webhook.malformed_json", message: "the body is not valid JSON")

    /// The body is JSON but not of the shape the format expects.
    static func unexpectedShape(_ message: String) -> Self {
        Self(code: "webhook.unexpected_shape", message: message)
    }
}
