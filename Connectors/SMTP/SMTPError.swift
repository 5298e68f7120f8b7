public import RetentionCore

/// A failure of the SMTP sink.
///
/// Classification: a 4xx reply is transient (the outbox retries), a 5xx reply permanent (the
/// notice is dead-lettered with the reply); connection and timeout problems are transient; a
/// refused login (535), a certificate that does not verify and a missing STARTTLS when it is
/// required are permanent (they will not fix themselves). Messages carry the SMTP command, the
/// reply code and the reply text with every address-like word removed, never an address, a user
/// name, a password or the message text.
public struct SMTPError: ConnectorFailure, Equatable {
    public var code: String
    public var message: String
    public var isTransient: Bool
    /// The SMTP reply code that decided the outcome (451, 550, 535), nil for connection problems.
    public var replyCode: Int?

    public init(code: String, message: String, isTransient: Bool, replyCode: Int? = nil) {
        self.code = code
        self.message = message
        self.isTransient = isTransient
        self.replyCode = replyCode
    }

    static let cancelled = SMTPError(code: "smtp.cancelled", message: "the send was cancelled", isTransient: true)
    static let closed = SMTPError(code: "smtp.closed", message: "the SMTP connector was shut down", isTransient: true)

    /// A 4xx/5xx reply: `stage` is the command it answered (`RCPT`), `text` the reply line.
    static func reply(_ replyCode: Int, stage: String?, text: String?) -> SMTPError {
        let transient = replyCode < 500
        let isAuth = stage == "AUTH" || replyCode == 535 || replyCode == 534 || replyCode == 530
        let what = stage.map { "\($0) " } ?? ""
        let detail = text.map(Self.redacted).flatMap { $0.isEmpty ? nil : ": \($0)" } ?? ""
        let code = isAuth ? "smtp.auth_rejected" : transient ? "smtp.deferred" : "smtp.rejected"
        let kind = transient ? "temporary" : "permanent"
        return SMTPError(
            code: code, message: "the SMTP server answered \(what)with \(replyCode) (\(kind))\(detail)",
            isTransient: transient, replyCode: replyCode)
    }

    /// The reply text after the code, printable ASCII only, without words that hold `@` or angle
    /// brackets (servers echo addresses), at most 120 characters.
    static func redacted(_ line: String) -> String {
        var text = Substring(line)
        if text.count >= 3, text.prefix(3).allSatisfy(\.isNumber) {
            text = text.dropFirst(3).drop { $0 == " " || $0 == "-" }
        }
        let words = text.split(whereSeparator: \.isWhitespace).filter { word in
            !word.contains("@") && !word.contains("<") && !word.contains(">")
                && word.unicodeScalars.allSatisfy { $0.isASCII && $0.value >= 0x21 && $0.value < 0x7F }
        }
        return String(words.joined(separator: " ").prefix(120))
    }
}
