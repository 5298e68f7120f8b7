import Foundation
import RetentionCore

/// Notices and byte-level helpers shared by the MailComposer and FileMail tests.
enum MailFixtures {
    static let date = Date(timeIntervalSince1970: 1_795_921_200)  // 2026-11-29T03:00:00Z (12:00 in Seoul)

    static func notice(
        id: String = "op-0123456789abcdef01234567",
        recipient: String = "hong@example.com",
        name: String? = "홍길동",
        subject: String = "개인정보 보유기간 만료 안내",
        text: String = "안녕하세요 홍길동님,\n보유기간이 곧 만료됩니다.\n",
        html: String? = nil,
        headers: [String: String] = [:]
    ) -> Notice {
        Notice(
            operationID: id, recipient: recipient, recipientName: name, sender: "Lethe Privacy <privacy@lethe.example>",
            subject: subject, textBody: text, htmlBody: html, date: date, headers: headers
        )
    }

    /// The raw lines of a message, split on CRLF; fails the caller's expectation via nil when a bare
    /// CR or LF occurs anywhere.
    static func crlfLines(_ bytes: [UInt8]) -> [String]? {
        var lines: [String] = []
        var current: [UInt8] = []
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == 0x0D {
                guard index + 1 < bytes.count, bytes[index + 1] == 0x0A else { return nil }
                lines.append(String(decoding: current, as: UTF8.self))
                current = []
                index += 2
                continue
            }
            if byte == 0x0A { return nil }
            current.append(byte)
            index += 1
        }
        guard current.isEmpty else { return nil }
        return lines
    }

    /// The raw header lines (up to the blank line), each a physical line.
    static func headerLines(_ bytes: [UInt8]) -> [String] {
        let lines = crlfLines(bytes) ?? []
        return Array(lines.prefix { !$0.isEmpty })
    }

    /// The physical lines of one header: its first line and its continuation lines.
    static func physicalLines(of name: String, in bytes: [UInt8]) -> [String] {
        let lines = headerLines(bytes)
        guard let start = lines.firstIndex(where: { $0.lowercased().hasPrefix(name.lowercased() + ":") }) else {
            return []
        }
        var result = [lines[start]]
        for line in lines[(start + 1)...] {
            guard line.hasPrefix(" ") || line.hasPrefix("\t") else { break }
            result.append(line)
        }
        return result
    }

    /// An independent RFC 2047 decoder for `=?UTF-8?B?...?=` words: every word must decode to
    /// valid UTF-8 on its own (no character split between words).
    static func decodeBWords(_ unfolded: String) -> String? {
        var result = ""
        for word in unfolded.split(separator: " ") {
            guard word.hasPrefix("=?UTF-8?B?"), word.hasSuffix("?="), word.count <= 75 else { return nil }
            let payload = word.dropFirst(10).dropLast(2)
            guard let data = Data(base64Encoded: String(payload)), let text = String(data: data, encoding: .utf8) else {
                return nil
            }
            result += text
        }
        return result
    }

    static func canonical(_ text: String) -> String {
        text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\n", with: "\r\n")
    }
}
