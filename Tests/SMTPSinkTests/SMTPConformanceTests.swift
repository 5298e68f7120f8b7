import ConnectorConformance
import Foundation
import MailTesting
import RetentionCore
import SMTPSink
import Testing

/// An `smtp` connector built through its factory against a fresh loopback aiosmtpd (STARTTLS and
/// AUTH required); what it delivered is read back from the server's store.
struct SMTPConformanceSubject: NoticeSinkConformanceSubject {
    var secrets: [String] { [SMTPFixtures.user, SMTPFixtures.password] }

    var exclusions: [SinkConformanceCheck: String] {
        [
            .redeliveryDeliversNothingNew:
                "SMTP cannot tell that a server already accepted a message: a retried notice is sent again with "
                + "the same Message-ID (derived from the operation id), which mail clients fold into one; "
                + "redeliveryReturnsSameReceipt checks that receipt."
        ]
    }

    func makeSink() async throws -> NoticeSinkUnderTest {
        let server = try SMTPServerProcess(credentials: (SMTPFixtures.user, SMTPFixtures.password))
        return try make(SMTPFixtures.values(for: server), server: server)
    }

    /// Nobody listens on the port (the server is stopped before the first send).
    func makeBrokenSink() async throws -> NoticeSinkUnderTest? {
        let server = try SMTPServerProcess(tls: "none")
        server.stop()
        return try make([("url", "smtp://127.0.0.1:\(server.port)"), ("starttls", "off")], server: server)
    }

    private func make(_ values: [(String, String)], server: SMTPServerProcess) throws -> NoticeSinkUnderTest {
        let (sink, instance) = try SMTPFixtures.sink(values)
        return NoticeSinkUnderTest(
            sink: sink,
            delivered: { try server.received().map { try ReadBackNotice(mime: $0.bytes) } },
            close: { await instance.shutdown?() })
    }
}

@Suite(
    "SMTP sink conformance against a loopback aiosmtpd",
    .enabled(if: SMTPServerProcess.isAvailable, "python3 cannot import aiosmtpd (run scripts/ensure-smtpd.sh)"))
struct SMTPConformanceTests {
    @Test(arguments: SinkConformanceCheck.noticeChecks)
    func conformance(_ check: SinkConformanceCheck) async throws {
        let outcome = try await runSinkConformance(check, subject: SMTPConformanceSubject())
        if case .notApplicable(let reason) = outcome {
            Issue.record(Comment(rawValue: "\(check) does not apply: \(reason)"), severity: .warning)
        }
    }
}

extension SMTPConformanceTests {
    /// The exclusion describes what happens: without it, the check fails.
    @Test func redeliveryReachesTheServerTwice() async throws {
        struct WithoutExclusions: NoticeSinkConformanceSubject {
            let inner = SMTPConformanceSubject()
            func makeSink() async throws -> NoticeSinkUnderTest { try await inner.makeSink() }
        }
        let failure = await #expect(throws: SinkConformanceFailure.self) {
            try await runSinkConformance(.redeliveryDeliversNothingNew, subject: WithoutExclusions())
        }
        #expect(failure?.message == "2 messages for one operation id, expected 1")
    }
}
