public import Foundation
public import RetentionCore

/// An RFC 5322 / MIME message built from a `Notice`.
///
/// Contracts:
/// - The same notice always renders to the same bytes: the `Message-ID` is
///   `<operationID@sender-domain>` and the multipart boundary is derived from the operation id, so a
///   retried delivery carries the same Message-ID.
/// - Every line ends in CRLF, header lines are folded to 78 characters where the text allows and no
///   line is ever longer than 998 characters.
/// - No header can be injected: CR, LF and other control characters in the subject, the display
///   name and the extra header values become spaces; an extra header whose name is not a valid
///   field name, or that would replace a header written here, is refused.
/// - Non-ASCII subjects, display names and extra header values are RFC 2047 encoded-words
///   (`=?UTF-8?B?...?=`, each at most 75 characters, never splitting a UTF-8 character); addresses are
///   never encoded.
/// - Text and HTML bodies are UTF-8 with canonical CRLF line breaks, base64 in 76-character lines.
///   With an HTML body the message is `multipart/alternative` (text first); without, one
///   `text/plain` body.
public struct MIMEMessage: Sendable, Equatable {
    /// The header fields in the order they are written; values may hold folds (CRLF + space).
    public let headerFields: [MIMEHeaderField]
    /// `<operationID@domain>`, with angle brackets.
    public let messageID: String
    /// The multipart boundary, nil for a single-part message.
    public let boundary: String?
    private let body: String

    /// Header names a notice may not set through `Notice.headers`.
    public static let reservedHeaderNames: Set<String> = [
        "from", "to", "cc", "bcc", "subject", "date", "message-id", "mime-version", "content-type",
        "content-transfer-encoding", "sender", "reply-to", "return-path",
    ]

    /// Builds the message. Throws a permanent `MailComposerError` when the recipient or sender is not
    /// a valid address, the operation id is empty, or an extra header is invalid or reserved.
    /// `timeZone` is the offset written in the `Date:` header (default UTC, `+0000`).
    public init(notice: Notice, timeZone: TimeZone = TimeZone(identifier: "UTC")!) throws(MailComposerError) {
        guard let recipient = Mailbox(parsing: notice.recipient, displayName: notice.recipientName) else {
            throw .badRecipient
        }
        guard let sender = Mailbox(parsing: notice.sender) else { throw .badSender }
        guard !notice.operationID.isEmpty else {
            throw MailComposerError(code: "mail.bad_operation_id", message: "the operation id is empty")
        }
        let messageID = "<\(Self.idLeft(notice.operationID))@\(sender.domain.lowercased())>"
        var fields: [MIMEHeaderField] = [
            MIMEHeaderField(name: "Date", value: RFC5322Date.string(from: notice.date, in: timeZone)),
            MIMEHeaderField(name: "From", value: sender.headerValue(prefixLength: 6)),
            MIMEHeaderField(name: "To", value: recipient.headerValue(prefixLength: 4)),
            MIMEHeaderField(
                name: "Subject", value: Self.unstructured(notice.subject, prefixLength: 9, encodeOverlong: true)),
            MIMEHeaderField(name: "Message-ID", value: messageID),
            MIMEHeaderField(name: "MIME-Version", value: "1.0"),
        ]
        for (index, name) in notice.headers.keys.sorted().enumerated() {
            guard HeaderText.isFieldName(name), !Self.reservedHeaderNames.contains(name.lowercased()) else {
                throw .badHeaderName(index: index)
            }
            let value = Self.unstructured(
                notice.headers[name] ?? "", prefixLength: name.count + 2, encodeOverlong: false)
            let lines = value.components(separatedBy: "\r\n")
            let firstLength = name.count + 2 + (lines.first?.count ?? 0)
            guard firstLength <= HeaderText.maximumLength, lines.allSatisfy({ $0.count <= HeaderText.maximumLength })
            else {
                throw .headerTooLong(index: index)
            }
            fields.append(MIMEHeaderField(name: name, value: value))
        }

        let text = MIMEBody.base64Lines(MIMEBody.canonicalUTF8(notice.textBody))
        let textType = "text/plain; charset=UTF-8"
        if let html = notice.htmlBody {
            let boundary = MIMEBody.boundary(for: notice.operationID)
            fields.append(
                MIMEHeaderField(name: "Content-Type", value: "multipart/alternative;\r\n boundary=\"\(boundary)\""))
            let htmlPart = MIMEBody.base64Lines(MIMEBody.canonicalUTF8(html))
            body =
                "--\(boundary)\r\n" + Self.part(type: textType, encoded: text)
                + "--\(boundary)\r\n" + Self.part(type: "text/html; charset=UTF-8", encoded: htmlPart)
                + "--\(boundary)--\r\n"
            self.boundary = boundary
        } else {
            fields.append(MIMEHeaderField(name: "Content-Type", value: textType))
            fields.append(MIMEHeaderField(name: "Content-Transfer-Encoding", value: "base64"))
            body = text
            self.boundary = nil
        }
        self.headerFields = fields
        self.messageID = messageID
    }

    /// The message as RFC 5322 bytes (CRLF line endings), ready for a `.eml` file or SMTP `DATA`.
    public func render() -> [UInt8] {
        var text = ""
        for field in headerFields { text += "\(field.name): \(field.value)\r\n" }
        text += "\r\n" + body
        return Array(text.utf8)
    }

    private static func part(type: String, encoded: String) -> String {
        "Content-Type: \(type)\r\nContent-Transfer-Encoding: base64\r\n\r\n\(encoded)"
    }

    /// A header value from free text: sanitised, then folded ASCII, or encoded-words when the text is
    /// not plain ASCII (or, with `encodeOverlong`, when a word would not fit in 78 characters).
    private static func unstructured(_ raw: String, prefixLength: Int, encodeOverlong: Bool) -> String {
        let text = HeaderText.sanitize(raw)
        if HeaderText.isPlainASCII(text) {
            let lines = HeaderText.fold(text, prefixLength: prefixLength)
            let longest = zip(lines.indices, lines).map { $0 == 0 ? prefixLength + $1.count : $1.count }.max() ?? 0
            if !encodeOverlong || longest <= HeaderText.preferredLength { return lines.joined(separator: "\r\n") }
        }
        return EncodedWord.encode(text, firstLineBudget: HeaderText.preferredLength - prefixLength)
            .joined(separator: "\r\n ")
    }

    /// The operation id as the left part of a Message-ID: atext except `=` is kept, every other
    /// UTF-8 byte becomes `=XX`, so distinct ids give distinct Message-IDs.
    static func idLeft(_ operationID: String) -> String {
        var result = ""
        for byte in operationID.utf8 {
            let scalar = Unicode.Scalar(byte)
            if byte < 0x80, scalar != "=", HeaderText.isAtext(scalar) {
                result.unicodeScalars.append(scalar)
            } else {
                result += "=" + (byte < 0x10 ? "0" : "") + String(byte, radix: 16, uppercase: true)
            }
        }
        return result
    }
}

/// One header field as written: `name: value`, the value possibly folded.
public struct MIMEHeaderField: Sendable, Equatable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}
