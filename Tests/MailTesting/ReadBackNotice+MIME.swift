public import ConnectorConformance
import Foundation
import MailComposer

extension ReadBackNotice {
    /// Reads a message `MIMEMessage` wrote: the `To` mailbox, the decoded subject, and the text and
    /// HTML parts (a single-part message has no HTML).
    public init(mime bytes: [UInt8]) throws {
        let message = try ParsedMIMEMessage(bytes: bytes)
        let to = message.decodedValue(of: "To") ?? ""
        var name: String?
        var address = to
        if to.hasSuffix(">"), let open = to.lastIndex(of: "<") {
            address = String(to[to.index(after: open)..<to.index(before: to.endIndex)])
            let written = to[..<open].trimmingCharacters(in: .whitespaces)
            name = written.isEmpty ? nil : written
            if let quoted = name, quoted.count >= 2, quoted.hasPrefix("\""), quoted.hasSuffix("\"") {
                name = String(quoted.dropFirst().dropLast())
            }
        }
        let texts = message.parts.map { $0.text ?? "" }
        self.init(
            recipient: address, recipientName: name, subject: message.decodedValue(of: "Subject") ?? "",
            textBody: texts.first ?? "", htmlBody: texts.count > 1 ? texts[1] : nil)
    }
}
