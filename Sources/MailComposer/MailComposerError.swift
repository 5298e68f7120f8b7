public import RetentionCore

/// Why a notice cannot be turned into a message. Always permanent: the same notice will fail the
/// same way on every retry. Messages name the problem, never the address or the text.
public struct MailComposerError: ConnectorFailure, Equatable {
    public var code: String
    public var message: String
    public var isTransient: Bool { false }

    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }

    static let badRecipient = MailComposerError(
        code: "mail.bad_recipient", message: "the recipient address is not a valid mailbox"
    )
    static let badSender = MailComposerError(
        code: "mail.bad_sender", message: "the sender address is not a valid mailbox")

    static func badHeaderName(index: Int) -> MailComposerError {
        MailComposerError(
            code: "mail.bad_header", message: "extra header #\(index + 1) has an invalid or reserved name")
    }

    static func headerTooLong(index: Int) -> MailComposerError {
        MailComposerError(
            code: "mail.header_too_long", message: "extra header #\(index + 1) cannot be folded under 998 characters")
    }
}
