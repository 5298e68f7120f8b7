import Foundation
import MailComposer
import RetentionCore
import Testing

@Suite("MIMEMessage")
struct MIMEMessageTests {
    @Test(
        "a Korean subject becomes UTF-8 B encoded-words that decode back exactly",
        arguments: [
            "개인정보 보유기간 만료 안내",
            "[Lethe] 개인정보 보유기간 만료 및 마케팅 수신 동의 연장 안내 — 2026년 11월 29일까지 응답해 주세요 😀 감사합니다",
            String(repeating: "똠방각하 ", count: 40) + "끝",
        ])
    func koreanSubject(subject: String) throws {
        let bytes = try MIMEMessage(notice: MailFixtures.notice(subject: subject)).render()
        let lines = MailFixtures.physicalLines(of: "Subject", in: bytes)
        #expect(lines.first?.hasPrefix("Subject: =?UTF-8?B?") == true)
        #expect(lines.allSatisfy { $0.count <= 78 })
        #expect(lines.dropFirst().allSatisfy { $0.hasPrefix(" =?UTF-8?B?") })
        let unfolded = String(lines.joined().dropFirst("Subject: ".count))
        #expect(MailFixtures.decodeBWords(unfolded) == subject)
        let parsed = try ParsedMIMEMessage(bytes: bytes)
        #expect(parsed.decodedValue(of: "Subject") == subject)
    }

    @Test("a long ASCII subject folds at spaces within 78 characters and unfolds to the input")
    func longASCIISubject() throws {
        let subject = (1...40).map { "word\($0)" }.joined(separator: " ")
        let bytes = try MIMEMessage(notice: MailFixtures.notice(subject: subject)).render()
        let lines = MailFixtures.physicalLines(of: "Subject", in: bytes)
        #expect(lines.count > 2)
        #expect(lines.allSatisfy { $0.count <= 78 })
        #expect(try ParsedMIMEMessage(bytes: bytes).value(of: "Subject") == subject)
        #expect(!lines.joined().contains("=?"))
    }

    @Test("a subject word too long to fold is encoded instead of overflowing the line")
    func unbreakableSubject() throws {
        let subject = String(repeating: "x", count: 1500)
        let bytes = try MIMEMessage(notice: MailFixtures.notice(subject: subject)).render()
        let lines = MailFixtures.physicalLines(of: "Subject", in: bytes)
        #expect(lines.allSatisfy { $0.count <= 78 })
        #expect(try ParsedMIMEMessage(bytes: bytes).decodedValue(of: "Subject") == subject)
    }

    @Test(
        "every line ends in CRLF and none is longer than 998 characters",
        arguments: [
            MailFixtures.notice(),
            MailFixtures.notice(
                subject: String(repeating: "가", count: 2000), text: String(repeating: "본문", count: 5000)),
            MailFixtures.notice(
                text: "one\rtwo\nthree\r\n", html: "<p>" + String(repeating: "a", count: 3000) + "</p>"),
            MailFixtures.notice(headers: [
                "List-Unsubscribe": "<https://lethe.example/u/" + String(repeating: "t", count: 300) + ">"
            ]),
        ])
    func lineRules(notice: Notice) throws {
        let bytes = try MIMEMessage(notice: notice).render()
        let lines = try #require(MailFixtures.crlfLines(bytes))
        #expect(lines.allSatisfy { $0.utf8.count <= 998 })
        #expect(MailFixtures.headerLines(bytes).allSatisfy { $0.utf8.allSatisfy { $0 < 0x80 } })
    }

    @Test("text and HTML become multipart/alternative whose base64 parts decode to the input")
    func bothParts() throws {
        let text = "안녕하세요,\n아래 링크에서 동의를 연장할 수 있습니다.\n" + String(repeating: "긴 줄 ", count: 60)
        let html = "<p>안녕하세요,</p>\n<p><a href=\"https://lethe.example/c/abc\">동의 연장</a></p>"
        let message = try MIMEMessage(notice: MailFixtures.notice(text: text, html: html))
        let bytes = message.render()
        let boundary = try #require(message.boundary)
        let raw = String(decoding: bytes, as: UTF8.self)
        #expect(raw.contains("Content-Type: multipart/alternative;\r\n boundary=\"\(boundary)\"\r\n"))
        #expect(
            raw.contains(
                "\r\n--\(boundary)\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            ))
        #expect(
            raw.contains(
                "\r\n--\(boundary)\r\nContent-Type: text/html; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            ))
        #expect(raw.hasSuffix("\r\n--\(boundary)--\r\n"))
        let bodyLines = (MailFixtures.crlfLines(bytes) ?? []).drop { !$0.isEmpty }.filter {
            !$0.hasPrefix("--") && !$0.contains(":")
        }
        #expect(bodyLines.allSatisfy { $0.count <= 76 })
        #expect(bodyLines.contains { $0.count == 76 })

        let parsed = try ParsedMIMEMessage(bytes: bytes)
        #expect(parsed.parts.map(\.contentType) == ["text/plain; charset=UTF-8", "text/html; charset=UTF-8"])
        #expect(parsed.parts.first?.text == MailFixtures.canonical(text))
        #expect(parsed.parts.last?.text == MailFixtures.canonical(html))
    }

    @Test("text without HTML is a single text/plain part")
    func textOnly() throws {
        let message = try MIMEMessage(notice: MailFixtures.notice(text: "plain 본문"))
        let parsed = try ParsedMIMEMessage(bytes: message.render())
        #expect(message.boundary == nil)
        #expect(parsed.value(of: "Content-Type") == "text/plain; charset=UTF-8")
        #expect(parsed.value(of: "Content-Transfer-Encoding") == "base64")
        #expect(parsed.parts.count == 1)
        #expect(parsed.parts.first?.text == "plain 본문")
    }

    @Test("Message-ID and boundary derive from the operation id: a retry renders the same bytes")
    func deterministic() throws {
        let notice = MailFixtures.notice(html: "<p>x</p>")
        let first = try MIMEMessage(notice: notice)
        let again = try MIMEMessage(notice: notice)
        #expect(first.render() == again.render())
        #expect(first.messageID == "<op-0123456789abcdef01234567@lethe.example>")
        #expect(try ParsedMIMEMessage(bytes: first.render()).value(of: "Message-ID") == first.messageID)
        let other = try MIMEMessage(notice: MailFixtures.notice(id: "op-ffffffffffffffffffffffff", html: "<p>x</p>"))
        #expect(other.messageID != first.messageID)
        #expect(other.boundary != first.boundary)
    }

    @Test("an operation id outside the atom characters is escaped, not copied, into the Message-ID")
    func escapedMessageID() throws {
        let message = try MIMEMessage(notice: MailFixtures.notice(id: "a b>c=d"))
        #expect(message.messageID == "<a=20b=3Ec=3Dd@lethe.example>")
    }

    @Test("Date is RFC 5322, in UTC by default or in the given zone")
    func date() throws {
        let utc = try ParsedMIMEMessage(bytes: MIMEMessage(notice: MailFixtures.notice()).render())
        #expect(utc.value(of: "Date") == "Sun, 29 Nov 2026 03:00:00 +0000")
        let seoul = try MIMEMessage(notice: MailFixtures.notice(), timeZone: TimeZone(identifier: "Asia/Seoul")!)
        #expect(try ParsedMIMEMessage(bytes: seoul.render()).value(of: "Date") == "Sun, 29 Nov 2026 12:00:00 +0900")
    }

    @Test("a Korean display name is encoded, the address never is")
    func addresses() throws {
        let bytes = try MIMEMessage(notice: MailFixtures.notice()).render()
        let to = MailFixtures.physicalLines(of: "To", in: bytes).joined()
        #expect(to.hasPrefix("To: =?UTF-8?B?"))
        #expect(to.hasSuffix(" <hong@example.com>"))
        let parsed = try ParsedMIMEMessage(bytes: bytes)
        #expect(parsed.decodedValue(of: "To") == "홍길동 <hong@example.com>")
        #expect(parsed.value(of: "From") == "Lethe Privacy <privacy@lethe.example>")
        let plain = try ParsedMIMEMessage(bytes: MIMEMessage(notice: MailFixtures.notice(name: "Kim, Minsu")).render())
        #expect(plain.value(of: "To") == "\"Kim, Minsu\" <hong@example.com>")
        let bare = try ParsedMIMEMessage(bytes: MIMEMessage(notice: MailFixtures.notice(name: nil)).render())
        #expect(bare.value(of: "To") == "hong@example.com")
    }

    @Test("CR and LF in the subject, the name and extra header values cannot inject headers")
    func injectionSanitised() throws {
        let notice = MailFixtures.notice(
            name: "Eve\r\nBcc: victim@example.com",
            subject: "Hello\r\nBcc: victim@example.com",
            headers: ["List-Unsubscribe": "<mailto:u@lethe.example>\r\nBcc: victim@example.com", "X-Note": "a\nb\rc"]
        )
        let bytes = try MIMEMessage(notice: notice).render()
        let lines = try #require(MailFixtures.crlfLines(bytes))
        #expect(!lines.contains { $0.lowercased().hasPrefix("bcc:") })
        let parsed = try ParsedMIMEMessage(bytes: bytes)
        #expect(parsed.value(of: "Subject") == "Hello  Bcc: victim@example.com")
        #expect(parsed.value(of: "List-Unsubscribe") == "<mailto:u@lethe.example>  Bcc: victim@example.com")
        #expect(parsed.value(of: "X-Note") == "a b c")
    }

    @Test(
        "an extra header with an invalid or reserved name is refused permanently",
        arguments: [
            "X-Bad\r\nBcc", "Bad Name", "X:Colon", "", "Bcc", "subject", "Content-Type", "Message-ID",
        ])
    func badHeaderNames(name: String) {
        let error = #expect(throws: MailComposerError.self) {
            try MIMEMessage(notice: MailFixtures.notice(headers: [name: "value"]))
        }
        #expect(error?.code == "mail.bad_header")
        #expect(error?.isTransient == false)
    }

    @Test(
        "an invalid recipient is a permanent failure whose message does not contain it",
        arguments: [
            "hong@example.com\r\nBcc: victim@example.com", "hong@@example.com", "hong@a@example.com",
            "no-at.example.com",
            "", "hong @example.com", "hong@", "@example.com", "hong@.", "홍@example.com", "hong@exa_mple.com",
            "hong..kim@example.com", "<hong@example.com",
        ])
    func badRecipient(address: String) {
        let error = #expect(throws: MailComposerError.self) {
            try MIMEMessage(notice: MailFixtures.notice(recipient: address))
        }
        #expect(error?.code == "mail.bad_recipient")
        #expect(error?.category == .permanent)
        #expect(error.map { !address.isEmpty && $0.message.contains(address) } == false)
    }

    @Test(
        "valid recipients are accepted and written verbatim",
        arguments: [
            "hong@example.com", "hong.gil-dong+retention@mail.example.co.kr", "Hong <hong@example.com>",
            "o'neil@example.com",
        ])
    func goodRecipient(address: String) throws {
        let parsed = try ParsedMIMEMessage(
            bytes: MIMEMessage(notice: MailFixtures.notice(recipient: address, name: nil)).render())
        #expect(parsed.value(of: "To") == address)
    }
}

@Suite struct DefaultSenderTests {
    @Test("the embedded default sender lethe@localhost (a single-label host) is accepted")
    func localhostSender() throws {
        var notice = MailFixtures.notice()
        notice.sender = "lethe@localhost"
        let message = try MIMEMessage(notice: notice)
        let parsed = try ParsedMIMEMessage(bytes: message.render())
        #expect(parsed.value(of: "From") == "lethe@localhost")
        #expect(message.messageID.hasSuffix("@localhost>"))
    }
}
