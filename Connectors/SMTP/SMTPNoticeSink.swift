import Foundation
import MailComposer
import RetentionCore

/// Sends each notice as one SMTP message.
///
/// Contracts:
/// - The message is `MIMEMessage(notice:)`: its `Message-ID` is derived from the operation id, so
///   a retried notice (after a crash between the server's acceptance and the outbox commit) goes
///   out again with the same Message-ID, which mail clients fold into one. SMTP cannot promise
///   more than that. The receipt is that Message-ID, which holds no personal data.
/// - One send at a time over one kept-alive connection, spaced by the rate limit when set.
/// - Failures are `SMTPError`s classified by the server's reply (4xx transient, 5xx permanent) or,
///   without one, by curl's error; a notice that cannot be composed is a permanent
///   `MailComposerError` and nothing is sent. No address, credential or message text reaches an
///   error message.
struct SMTPNoticeSink: NoticeSink {
    let transport: SMTPTransport
    let limiter: SendingRateLimiter?
    /// Used for notices whose sender is empty.
    let fallbackSender: String?

    func deliver(_ notice: Notice) async throws -> String {
        var notice = notice
        if notice.sender.trimmingCharacters(in: .whitespaces).isEmpty, let fallbackSender {
            notice.sender = fallbackSender
        }
        let message = try MIMEMessage(notice: notice)
        let bytes = message.render()
        try await limiter?.acquire()
        try await transport.send(
            from: Self.address(notice.sender), to: [Self.address(notice.recipient)], message: bytes)
        return message.messageID
    }

    /// The bare address of `Name <local@domain>` or `local@domain`, read the way `MIMEMessage`
    /// reads it (which has already checked that it is a valid address).
    static func address(_ mailbox: String) -> String {
        let text = mailbox.trimmingCharacters(in: .whitespaces)
        guard text.hasSuffix(">"), let open = text.lastIndex(of: "<") else { return text }
        return String(text[text.index(after: open)..<text.index(before: text.endIndex)])
    }
}
