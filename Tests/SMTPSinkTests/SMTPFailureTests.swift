import Foundation
import MailComposer
import RetentionCore
import SMTPSink
import Testing

@Suite(
    "SMTP failures are classified",
    .enabled(if: SMTPServerProcess.isAvailable, "python3 cannot import aiosmtpd (run scripts/ensure-smtpd.sh)"))
struct SMTPFailureTests {
    @Test("a wrong password is a permanent auth failure naming 535, never the user or password")
    func authFailure() async throws {
        let server = try SMTPServerProcess(credentials: (SMTPFixtures.user, "another-password"))
        let (sink, instance) = try SMTPFixtures.sink(SMTPFixtures.values(for: server))
        let error = await #expect(throws: SMTPError.self) { try await sink.deliver(SMTPFixtures.notice(id: "op-auth")) }
        await instance.shutdown?()
        #expect(error?.code == "smtp.auth_rejected")
        #expect(error?.isTransient == false)
        #expect(error?.category == .permanent)
        #expect(error?.replyCode == 535)
        #expect(error.map(SMTPFixtures.leaks) == false, "\(String(describing: error))")
        #expect(try server.received().isEmpty)
    }

    @Test("451 to RCPT is transient; the retry is delivered with the same Message-ID")
    func deferredThenDelivered() async throws {
        let server = try SMTPServerProcess(faults: ["rcpt:451:1"])
        let (sink, instance) = try SMTPFixtures.sink(SMTPFixtures.values(for: server, auth: false))
        let notice = SMTPFixtures.notice(id: "op-deferred")
        let error = await #expect(throws: SMTPError.self) { try await sink.deliver(notice) }
        #expect(error?.code == "smtp.deferred")
        #expect(error?.isTransient == true)
        #expect(error?.replyCode == 451)
        #expect(error?.message.contains("RCPT") == true)
        #expect(error?.message.contains("4.3.0") == true)
        #expect(error.map(SMTPFixtures.leaks) == false, "\(String(describing: error))")
        #expect(try server.received().isEmpty)

        let receipt = try await sink.deliver(notice)
        await instance.shutdown?()
        #expect(receipt == "<op-deferred@lethe.example>")
        let received = try server.received()
        try #require(received.count == 1)
        #expect(try ParsedMIMEMessage(bytes: received[0].bytes).value(of: "Message-ID") == receipt)
    }

    @Test("550 after DATA is permanent with the reply code and text, without the address")
    func rejectedAfterData() async throws {
        let server = try SMTPServerProcess(faults: ["data:550:1"])
        let (sink, instance) = try SMTPFixtures.sink(SMTPFixtures.values(for: server, auth: false))
        let error = await #expect(throws: SMTPError.self) {
            try await sink.deliver(SMTPFixtures.notice(id: "op-rejected"))
        }
        #expect(error?.code == "smtp.rejected")
        #expect(error?.isTransient == false)
        #expect(error?.replyCode == 550)
        #expect(error?.message.contains("5.1.1 Mailbox unavailable") == true, "\(String(describing: error))")
        #expect(error.map(SMTPFixtures.leaks) == false, "\(String(describing: error))")
        // The connection recovers: the next notice goes through.
        _ = try await sink.deliver(SMTPFixtures.notice(id: "op-next"))
        await instance.shutdown?()
        #expect(try server.received().count == 1)
    }

    @Test("550 to RCPT (which echoes the address) is permanent and the address is cut from the text")
    func rejectedRecipient() async throws {
        let server = try SMTPServerProcess(faults: ["rcpt:550:1"])
        let (sink, instance) = try SMTPFixtures.sink(SMTPFixtures.values(for: server, auth: false))
        let error = await #expect(throws: SMTPError.self) { try await sink.deliver(SMTPFixtures.notice(id: "op-rcpt")) }
        await instance.shutdown?()
        #expect(error?.code == "smtp.rejected")
        #expect(error?.replyCode == 550)
        #expect(error?.message.contains("RCPT") == true)
        #expect(error.map(SMTPFixtures.leaks) == false, "\(String(describing: error))")
    }

    @Test("starttls required against a server without STARTTLS fails permanently and sends nothing")
    func startTLSRequiredButMissing() async throws {
        let server = try SMTPServerProcess(tls: "none")
        let (sink, instance) = try SMTPFixtures.sink([("url", "smtp://127.0.0.1:\(server.port)")])
        let error = await #expect(throws: SMTPError.self) { try await sink.deliver(SMTPFixtures.notice(id: "op-tls")) }
        await instance.shutdown?()
        #expect(error?.code == "smtp.starttls_unavailable")
        #expect(error?.isTransient == false)
        #expect(try server.received().isEmpty)
    }

    @Test("a certificate that does not verify is a permanent TLS failure")
    func untrustedCertificate() async throws {
        let server = try SMTPServerProcess()
        let (sink, instance) = try SMTPFixtures.sink([("url", "smtp://127.0.0.1:\(server.port)")])
        let error = await #expect(throws: SMTPError.self) { try await sink.deliver(SMTPFixtures.notice(id: "op-cert")) }
        await instance.shutdown?()
        #expect(error?.code == "smtp.tls_verification")
        #expect(error?.isTransient == false)
        #expect(try server.received().isEmpty)
    }

    @Test("nobody listening is a transient connection failure")
    func connectionRefused() async throws {
        let server = try SMTPServerProcess(tls: "none")
        let port = server.port
        server.stop()
        let (sink, instance) = try SMTPFixtures.sink([("url", "smtp://127.0.0.1:\(port)"), ("starttls", "off")])
        let error = await #expect(throws: SMTPError.self) {
            try await sink.deliver(SMTPFixtures.notice(id: "op-refused"))
        }
        await instance.shutdown?()
        #expect(error?.code == "smtp.connection")
        #expect(error?.isTransient == true)
        #expect(error?.replyCode == nil)
    }

    @Test("a bad recipient is a permanent MailComposerError and nothing is sent")
    func badRecipient() async throws {
        let server = try SMTPServerProcess()
        let (sink, instance) = try SMTPFixtures.sink(SMTPFixtures.values(for: server, auth: false))
        let error = await #expect(throws: MailComposerError.self) {
            try await sink.deliver(
                SMTPFixtures.notice(id: "op-bad", recipient: "hong@example.com>\r\nRCPT TO:<x@evil.example"))
        }
        await instance.shutdown?()
        #expect(error?.isTransient == false)
        #expect(try server.received().isEmpty)
    }
}
