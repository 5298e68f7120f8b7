import Foundation
import RetentionCore

/// Runs one notice-sink check against fresh sinks from `subject`. Returns `.notApplicable` for a
/// check the subject excludes (or a batch check on a sink that does not batch); throws a
/// `SinkConformanceFailure` describing what did not hold, or the sink's own unexpected error.
@discardableResult
public func runSinkConformance(
    _ check: SinkConformanceCheck, subject: some NoticeSinkConformanceSubject
) async throws -> SinkConformanceOutcome {
    guard check.sink == .notices else {
        throw SinkConformanceFailure(check: check, message: "an archive check cannot run against a notice sink")
    }
    if let reason = subject.exclusions[check] {
        guard !reason.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw SinkConformanceFailure(check: check, message: "an exclusion needs a written reason")
        }
        return .notApplicable(reason: reason)
    }
    return try await NoticeSinkConformanceRun(check: check, subject: subject).perform()
}

/// One check against the sinks one subject makes.
struct NoticeSinkConformanceRun<Subject: NoticeSinkConformanceSubject> {
    let check: SinkConformanceCheck
    let subject: Subject

    func perform() async throws -> SinkConformanceOutcome {
        switch check {
        case .deliveryReturnsReceipt: try await withSink(deliveryReturnsReceipt)
        case .redeliveryReturnsSameReceipt: try await withSink(redeliveryReturnsSameReceipt)
        case .redeliveryDeliversNothingNew: try await withSink(redeliveryDeliversNothingNew)
        case .batchMatchesSingleDeliveries: return try await batchMatchesSingleDeliveries()
        case .koreanTextSurvives: try await withSink(koreanTextSurvives)
        case .badRecipientIsPermanent: try await withSink(badRecipientIsPermanent)
        case .transportFailureIsTransient: try await transportFailureIsTransient()
        case .noticeErrorsHoldNoPersonalData: try await noticeErrorsHoldNoPersonalData()
        default: throw failure("not a notice check")
        }
        return .passed
    }

    // MARK: Checks

    private func deliveryReturnsReceipt(_ tested: NoticeSinkUnderTest) async throws {
        let notice = notice(1)
        let receipt = try await tested.sink.deliver(notice)
        try expect(!receipt.isEmpty, "the receipt is empty")
        try expectNoPersonalData(in: receipt, of: [notice], what: "the receipt")
        let delivered = try await tested.delivered()
        try expect(delivered.count == 1, "\(delivered.count) messages arrived, expected 1")
    }

    private func redeliveryReturnsSameReceipt(_ tested: NoticeSinkUnderTest) async throws {
        let notice = notice(1)
        let first = try await tested.sink.deliver(notice)
        let second = try await tested.sink.deliver(notice)
        try expect(first == second, "the second delivery of \(notice.operationID) returned another receipt")
    }

    private func redeliveryDeliversNothingNew(_ tested: NoticeSinkUnderTest) async throws {
        let notice = notice(1)
        _ = try await tested.sink.deliver(notice)
        _ = try await tested.sink.deliver(notice)
        let delivered = try await tested.delivered()
        try expect(delivered.count == 1, "\(delivered.count) messages for one operation id, expected 1")
    }

    private func batchMatchesSingleDeliveries() async throws -> SinkConformanceOutcome {
        try await withSink { batched in
            guard let batching = batched.sink as? any BatchingNoticeSink else {
                return .notApplicable(reason: "the sink is not a BatchingNoticeSink")
            }
            let first = notice(1)
            let second = notice(2, html: false)
            let bad = SinkConformanceFixtures.badNotice(check, 0)
            let results = await batching.deliver([first, bad, second, first])
            let names = results.map { result in
                switch result {
                case .success: "delivered"
                case .failure(let error): (error as? any ConnectorFailure)?.isTransient == false ? "permanent" : "other"
                }
            }
            try expect(
                names == ["delivered", "permanent", "delivered", "delivered"],
                "batch results \(names), expected [delivered, permanent, delivered, delivered]")
            if case .failure(let error as any ConnectorFailure) = results[1] {
                try expectNoPersonalData(in: error, of: [bad])
            }
            let receipts = results.compactMap { try? $0.get() }
            try expect(receipts[0] == receipts[2], "the repeated notice returned another receipt")
            let fromBatch = try await batched.delivered()
            try expect(fromBatch.count == 2, "the batch delivered \(fromBatch.count) messages, expected 2")
            try expectReadBack(fromBatch, [first, second])
            try await withSink { single in
                let singleReceipts = [try await single.sink.deliver(first), try await single.sink.deliver(second)]
                try expect(
                    [receipts[0], receipts[1]] == singleReceipts, "the batch's receipts differ from single deliveries'")
                try expectReadBack(try await single.delivered(), [first, second])
            }
            return .passed
        }
    }

    private func koreanTextSurvives(_ tested: NoticeSinkUnderTest) async throws {
        let notices = [notice(1), notice(2, html: false)]
        for notice in notices { _ = try await tested.sink.deliver(notice) }
        try expectReadBack(try await tested.delivered(), notices)
    }

    private func badRecipientIsPermanent(_ tested: NoticeSinkUnderTest) async throws {
        for index in SinkConformanceFixtures.badRecipients.indices {
            let error = try await expectFailure(
                tested.sink, SinkConformanceFixtures.badNotice(check, index), "bad recipient #\(index + 1)")
            try expect(!error.isTransient, "bad recipient #\(index + 1): the failure \(error.code) is transient")
        }
        let delivered = try await tested.delivered()
        try expect(delivered.isEmpty, "\(delivered.count) messages arrived for bad recipients")
    }

    private func transportFailureIsTransient() async throws {
        guard let broken = try await subject.makeBrokenSink() else {
            throw failure("the subject makes no broken sink; exclude the check with a reason instead")
        }
        let error = try await expectFailure(broken.sink, notice(1), "delivery through a broken transport")
        await broken.close()
        try expect(error.isTransient, "the transport failure \(error.code) is not transient")
        let delivered = try await broken.delivered()
        try expect(delivered.isEmpty, "\(delivered.count) messages arrived through a broken transport")
    }

    private func noticeErrorsHoldNoPersonalData() async throws {
        try await withSink { tested in
            for index in SinkConformanceFixtures.badRecipients.indices {
                let notice = SinkConformanceFixtures.badNotice(check, index)
                try expectNoPersonalData(
                    in: try await expectFailure(tested.sink, notice, "bad recipient"), of: [notice])
            }
        }
        if subject.exclusions[.transportFailureIsTransient] == nil, let broken = try await subject.makeBrokenSink() {
            let notice = notice(1)
            let error = try await expectFailure(broken.sink, notice, "delivery through a broken transport")
            await broken.close()
            try expectNoPersonalData(in: error, of: [notice])
        }
    }

    // MARK: Helpers

    /// Runs `body` with a fresh sink and closes it afterwards, whatever happens.
    private func withSink<T>(_ body: (NoticeSinkUnderTest) async throws -> T) async throws -> T {
        let tested = try await subject.makeSink()
        do {
            let result = try await body(tested)
            await tested.close()
            return result
        } catch {
            await tested.close()
            throw error
        }
    }

    private func notice(_ number: Int, html: Bool = true) -> Notice {
        SinkConformanceFixtures.notice(check, number, html: html)
    }

    private func failure(_ message: String) -> SinkConformanceFailure {
        SinkConformanceFailure(check: check, message: message)
    }

    private func expect(_ condition: Bool, _ message: @autoclosure () -> String) throws {
        if !condition { throw failure(message()) }
    }

    /// The `ConnectorFailure` delivering `notice` throws; fails when it succeeds or throws another error.
    private func expectFailure(_ sink: any NoticeSink, _ notice: Notice, _ step: String) async throws
        -> any ConnectorFailure
    {
        do {
            _ = try await sink.deliver(notice)
        } catch let error as any ConnectorFailure {
            return error
        } catch {
            throw failure("\(step): the error is not a ConnectorFailure (\(type(of: error)))")
        }
        throw failure("\(step): the delivery succeeded")
    }

    /// The messages read back equal `notices` (in any order), bodies compared with LF line breaks.
    private func expectReadBack(_ actual: [ReadBackNotice], _ notices: [Notice]) throws {
        try expect(actual.count == notices.count, "\(actual.count) messages read back, expected \(notices.count)")
        var remaining = actual.map(Self.normalised)
        for notice in notices {
            let expected = Self.normalised(SinkConformanceFixtures.readBack(notice))
            guard let index = remaining.firstIndex(where: { $0.recipient == expected.recipient }) else {
                throw failure("no message for \(notice.operationID) read back")
            }
            let found = remaining.remove(at: index)
            for (field, same) in [
                ("recipientName", found.recipientName == expected.recipientName),
                ("subject", found.subject == expected.subject),
                ("textBody", found.textBody == expected.textBody),
                ("htmlBody", found.htmlBody == expected.htmlBody),
            ] where !same {
                throw failure("\(notice.operationID): \(field) differs after reading back")
            }
        }
    }

    private static func normalised(_ notice: ReadBackNotice) -> ReadBackNotice {
        var notice = notice
        notice.textBody = notice.textBody.replacingOccurrences(of: "\r\n", with: "\n")
        notice.htmlBody = notice.htmlBody?.replacingOccurrences(of: "\r\n", with: "\n")
        return notice
    }

    private func expectNoPersonalData(in error: any ConnectorFailure, of notices: [Notice]) throws {
        try expectNoPersonalData(
            in: "\(error.code) \(error.message) \(error) \(String(reflecting: error))", of: notices,
            what: "the error \(error.code)")
    }

    /// Neither an address (or its local part), a display name, the subject, a body line nor a
    /// secret of the subject appears in `text`.
    private func expectNoPersonalData(in text: String, of notices: [Notice], what: String) throws {
        for notice in notices {
            var forbidden = [notice.recipient, notice.recipientName ?? "", notice.subject]
            forbidden += notice.recipient.split(separator: "@").map(String.init).filter { $0.count > 3 }
            forbidden += notice.textBody.split(separator: "\n").map(String.init).filter { $0.count > 3 }
            forbidden += ["@example.com", "evil.example"]
            for value in forbidden where !value.isEmpty && text.contains(value) {
                throw failure("\(what) of \(notice.operationID) contains personal data")
            }
        }
        for secret in subject.secrets where !secret.isEmpty && text.contains(secret) {
            throw failure("\(what) contains a secret of the subject")
        }
    }
}
