import Foundation
import MailComposer
import RetentionCore
import SMTPSink
import Testing

@Suite(
    "SMTP delivery against a loopback aiosmtpd",
    .enabled(if: SMTPServerProcess.isAvailable, "python3 cannot import aiosmtpd (run scripts/ensure-smtpd.sh)"))
struct SMTPDeliveryTests {
    @Test("STARTTLS + AUTH: Korean text+HTML notices arrive intact over one connection; receipts are Message-IDs")
    func deliversOverOneConnection() async throws {
        let server = try SMTPServerProcess(credentials: (SMTPFixtures.user, SMTPFixtures.password))
        let (sink, instance) = try SMTPFixtures.sink(SMTPFixtures.values(for: server) + [("auth", "PLAIN")])
        let ids = ["op-a0000000000000000000001", "op-a0000000000000000000002", "op-a0000000000000000000003"]
        var receipts: [String] = []
        for (index, id) in ids.enumerated() {
            let headers = index == 0 ? ["List-Unsubscribe": "<https://lethe.example/consent/abc/decline>"] : [:]
            receipts.append(
                try await sink.deliver(
                    SMTPFixtures.notice(id: id, recipient: "hong\(index)@example.com", headers: headers)))
        }
        await instance.shutdown?()
        #expect(receipts == ids.map { "<\($0)@lethe.example>" })

        let received = try server.received()
        try #require(received.count == 3)
        #expect(Set(received.map(\.peerPort)).count == 1, "all three messages went over one connection")
        for (index, message) in received.enumerated() {
            #expect(message.authenticated)
            #expect(message.mailFrom == "privacy@lethe.example")
            #expect(message.recipients == ["hong\(index)@example.com"])
            let parsed = try ParsedMIMEMessage(bytes: message.bytes)
            #expect(parsed.decodedValue(of: "Subject") == SMTPFixtures.subject)
            #expect(parsed.value(of: "Subject")?.hasPrefix("=?UTF-8?B?") == true)
            #expect(parsed.decodedValue(of: "From") == "Lethe 개인정보팀 <privacy@lethe.example>")
            #expect(parsed.decodedValue(of: "To") == "홍길동 <hong\(index)@example.com>")
            #expect(parsed.value(of: "Message-ID") == receipts[index])
            #expect(parsed.value(of: "Date") == "Sun, 29 Nov 2026 03:00:00 +0000")
            #expect(parsed.value(of: "MIME-Version") == "1.0")
            #expect(parsed.value(of: "Content-Type")?.hasPrefix("multipart/alternative;") == true)
            #expect(parsed.parts.map(\.contentType) == ["text/plain; charset=UTF-8", "text/html; charset=UTF-8"])
            let notice = SMTPFixtures.notice(id: ids[index])
            #expect(parsed.parts.first?.text == SMTPFixtures.canonical(notice.textBody))
            #expect(parsed.parts.last?.text == SMTPFixtures.canonical(notice.htmlBody ?? ""))
            #expect(
                message.bytes
                    == (try MIMEMessage(
                        notice: SMTPFixtures.notice(
                            id: ids[index], recipient: "hong\(index)@example.com",
                            headers: index == 0
                                ? ["List-Unsubscribe": "<https://lethe.example/consent/abc/decline>"] : [:])
                    ).render()))
        }
        let first = try ParsedMIMEMessage(bytes: received[0].bytes)
        #expect(first.value(of: "List-Unsubscribe") == "<https://lethe.example/consent/abc/decline>")
        #expect(try ParsedMIMEMessage(bytes: received[1].bytes).value(of: "List-Unsubscribe") == nil)
    }

    @Test("AUTH LOGIN, and a text-only notice is a single text/plain body")
    func authLoginTextOnly() async throws {
        let server = try SMTPServerProcess(credentials: (SMTPFixtures.user, SMTPFixtures.password))
        let (sink, instance) = try SMTPFixtures.sink(SMTPFixtures.values(for: server) + [("auth", "LOGIN")])
        let receipt = try await sink.deliver(SMTPFixtures.notice(id: "op-login", html: false))
        await instance.shutdown?()
        #expect(receipt == "<op-login@lethe.example>")
        let received = try server.received()
        try #require(received.count == 1)
        #expect(received[0].authenticated)
        let parsed = try ParsedMIMEMessage(bytes: received[0].bytes)
        #expect(parsed.value(of: "Content-Type") == "text/plain; charset=UTF-8")
        #expect(parsed.parts.map(\.text) == [SMTPFixtures.canonical(SMTPFixtures.notice(id: "x").textBody)])
    }

    @Test("smtps:// (TLS from the first byte) verifies the server against caFile")
    func implicitTLS() async throws {
        let server = try SMTPServerProcess(tls: "implicit", credentials: (SMTPFixtures.user, SMTPFixtures.password))
        let (sink, instance) = try SMTPFixtures.sink(SMTPFixtures.values(for: server, scheme: "smtps"))
        _ = try await sink.deliver(SMTPFixtures.notice(id: "op-smtps"))
        await instance.shutdown?()
        #expect(try server.received().count == 1)
    }

    @Test("insecureSkipVerify accepts a certificate nobody trusts; heloName is accepted")
    func insecureSkipVerify() async throws {
        let server = try SMTPServerProcess()
        let values = [
            ("url", "smtp://127.0.0.1:\(server.port)"), ("insecureSkipVerify", "true"),
            ("heloName", "mailer.lethe.example"),
        ]
        let (sink, instance) = try SMTPFixtures.sink(values)
        _ = try await sink.deliver(SMTPFixtures.notice(id: "op-insecure"))
        await instance.shutdown?()
        #expect(try server.received().count == 1)
    }

    @Test("starttls optional sends in clear to a server without STARTTLS; off never upgrades")
    func startTLSOptionalAndOff() async throws {
        let plain = try SMTPServerProcess(tls: "none")
        let (optional, first) = try SMTPFixtures.sink([
            ("url", "smtp://127.0.0.1:\(plain.port)"), ("starttls", "optional"),
        ])
        _ = try await optional.deliver(SMTPFixtures.notice(id: "op-optional"))
        await first.shutdown?()
        #expect(try plain.received().count == 1)

        let tls = try SMTPServerProcess()
        let (off, second) = try SMTPFixtures.sink([("url", "smtp://127.0.0.1:\(tls.port)"), ("starttls", "off")])
        _ = try await off.deliver(SMTPFixtures.notice(id: "op-off"))
        await second.shutdown?()
        #expect(try tls.received().count == 1)
    }

    @Test("a notice without a sender uses the configured from")
    func fallbackSender() async throws {
        let server = try SMTPServerProcess()
        let (sink, instance) = try SMTPFixtures.sink(
            SMTPFixtures.values(for: server, auth: false) + [("from", "lethe@localhost")])
        let receipt = try await sink.deliver(SMTPFixtures.notice(id: "op-from", sender: ""))
        await instance.shutdown?()
        #expect(receipt == "<op-from@localhost>")
        let received = try server.received()
        #expect(received.map(\.mailFrom) == ["lethe@localhost"])
        #expect(try ParsedMIMEMessage(bytes: received[0].bytes).value(of: "From") == "lethe@localhost")
    }

    @Test("concurrent deliveries are serialised over the handle; the rate limit spaces them")
    func concurrencyAndRateLimit() async throws {
        let server = try SMTPServerProcess()
        let (sink, instance) = try SMTPFixtures.sink(
            SMTPFixtures.values(for: server, auth: false) + [("ratePerMinute", "600")])
        let clock = ContinuousClock()
        let start = clock.now
        let receipts = try await withThrowingTaskGroup(of: String.self) { group in
            for index in 0..<4 { group.addTask { try await sink.deliver(SMTPFixtures.notice(id: "op-rate-\(index)")) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let elapsed = clock.now - start
        await instance.shutdown?()
        #expect(Set(receipts) == Set((0..<4).map { "<op-rate-\($0)@lethe.example>" }))
        #expect(elapsed >= .milliseconds(290), "four sends at 600/min take at least 3 × 100 ms")
        #expect(try server.received().count == 4)
    }

    @Test("after shutdown a send fails as transient and nothing is sent")
    func shutdown() async throws {
        let server = try SMTPServerProcess()
        let (sink, instance) = try SMTPFixtures.sink(SMTPFixtures.values(for: server, auth: false))
        await instance.shutdown?()
        let error = await #expect(throws: SMTPError.self) { try await sink.deliver(SMTPFixtures.notice(id: "op-late")) }
        #expect(error?.code == "smtp.closed")
        #expect(error?.isTransient == true)
        #expect(try server.received().isEmpty)
    }
}
