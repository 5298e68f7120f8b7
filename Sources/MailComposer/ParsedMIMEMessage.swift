import Foundation

/// A small reader for the messages `MIMEMessage` writes (and simple messages like them): unfolded
/// headers, RFC 2047 decoding, and the decoded bodies of a single-part or `multipart/*` message.
/// Meant for tests and inspection of a file outbox, not as a general MIME parser.
public struct ParsedMIMEMessage: Sendable {
    /// Header fields in order, values unfolded (CRLF removed before each continuation line).
    public let headers: [MIMEHeaderField]
    /// The leaf parts, decoded; one part for a single-part message.
    public let parts: [MIMEPart]

    /// Parses CRLF-delimited message bytes. Throws when there is no header/body separator, a
    /// multipart message has no boundary, or a base64 body does not decode.
    public init(bytes: [UInt8]) throws(MailComposerError) {
        let text = String(decoding: bytes, as: UTF8.self)
        let (headers, body) = try Self.split(text)
        self.headers = headers
        self.parts = try Self.parts(headers: headers, body: body)
    }

    /// The unfolded value of the first header with this name (case-insensitive).
    public func value(of name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// The value of the first header with this name with its encoded-words decoded.
    public func decodedValue(of name: String) -> String? {
        value(of: name).flatMap(EncodedWord.decode)
    }

    static func split(_ text: String) throws(MailComposerError) -> ([MIMEHeaderField], String) {
        guard let separator = text.range(of: "\r\n\r\n") else { throw parseError("no blank line after the headers") }
        var fields: [MIMEHeaderField] = []
        for line in text[..<separator.lowerBound].components(separatedBy: "\r\n") {
            if line.hasPrefix(" ") || line.hasPrefix("\t"), let last = fields.indices.last {
                fields[last].value += line
            } else if let colon = line.firstIndex(of: ":") {
                let value = line[line.index(after: colon)...].drop { $0 == " " || $0 == "\t" }
                fields.append(MIMEHeaderField(name: String(line[..<colon]), value: String(value)))
            } else {
                throw parseError("a header line has no colon")
            }
        }
        return (fields, String(text[separator.upperBound...]))
    }

    private static func parts(headers: [MIMEHeaderField], body: String) throws(MailComposerError) -> [MIMEPart] {
        let type = headers.first { $0.name.lowercased() == "content-type" }?.value ?? "text/plain"
        guard type.lowercased().hasPrefix("multipart/") else {
            let encoding = headers.first { $0.name.lowercased() == "content-transfer-encoding" }?.value ?? "7bit"
            return [try MIMEPart(contentType: type, transferEncoding: encoding, encodedBody: body)]
        }
        guard let boundary = parameter("boundary", in: type) else {
            throw parseError("a multipart message has no boundary")
        }
        var result: [MIMEPart] = []
        let sections = ("\r\n" + body).components(separatedBy: "\r\n--\(boundary)")
        for section in sections.dropFirst() where !section.hasPrefix("--") {
            guard let lineEnd = section.range(of: "\r\n") else { throw parseError("a boundary line does not end") }
            let (partHeaders, partBody) = try split(String(section[lineEnd.upperBound...]))
            result += try parts(headers: partHeaders, body: partBody)
        }
        return result
    }

    private static func parameter(_ name: String, in value: String) -> String? {
        for item in value.split(separator: ";").dropFirst() {
            let pair = item.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, pair[0].trimmingCharacters(in: .whitespaces).lowercased() == name else { continue }
            return pair[1].trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        }
        return nil
    }

    static func parseError(_ problem: String) -> MailComposerError {
        MailComposerError(code: "mail.parse", message: "the message cannot be read: \(problem)")
    }
}

/// One decoded body part.
public struct MIMEPart: Sendable, Equatable {
    /// The `Content-Type` value as written (`text/plain; charset=UTF-8`).
    public let contentType: String
    /// The `Content-Transfer-Encoding` value as written (`base64`).
    public let transferEncoding: String
    /// The decoded bytes of the body.
    public let body: [UInt8]

    /// The body as UTF-8 text (nil when it is not valid UTF-8).
    public var text: String? { String(bytes: body, encoding: .utf8) }

    init(contentType: String, transferEncoding: String, encodedBody: String) throws(MailComposerError) {
        self.contentType = contentType
        self.transferEncoding = transferEncoding
        switch transferEncoding.lowercased() {
        case "base64":
            let compact = encodedBody.filter { !$0.isWhitespace }
            guard let data = Data(base64Encoded: compact) else {
                throw ParsedMIMEMessage.parseError("a base64 body does not decode")
            }
            body = Array(data)
        default:
            body = Array(encodedBody.utf8)
        }
    }
}
