import ConnectorConformance
import Foundation
import RetentionCore

/// A sink that breaks the one rule `fault` checks, wrapped around a working one: the suite must
/// catch each of them.
struct MisbehavingNoticeSink: BatchingNoticeSink {
    let fault: SinkConformanceCheck
    let inner: any BatchingNoticeSink
    private let calls = Counter()

    func deliver(_ notice: Notice) async throws -> String {
        var notice = notice
        switch fault {
        case .redeliveryDeliversNothingNew: notice.operationID += "-\(calls.next())"
        case .koreanTextSurvives: notice.subject = String(notice.subject.prefix(20))
        default: break
        }
        do {
            let receipt = try await inner.deliver(notice)
            switch fault {
            case .deliveryReturnsReceipt: return ""
            case .redeliveryReturnsSameReceipt: return receipt + "-\(calls.next())"
            default: return receipt
            }
        } catch let error as any ConnectorFailure {
            switch fault {
            case .badRecipientIsPermanent, .transportFailureIsTransient:
                throw ConnectorError(code: error.code, message: error.message, isTransient: !error.isTransient)
            case .noticeErrorsHoldNoPersonalData:
                throw ConnectorError(
                    code: error.code, message: "cannot deliver to \(notice.recipient)", isTransient: error.isTransient)
            default: throw error
            }
        }
    }

    func deliver(_ notices: [Notice]) async -> [Result<String, any Error>] {
        let results = await inner.deliver(notices)
        return fault == .batchMatchesSingleDeliveries ? results.reversed() : results
    }

    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var value = 0
        func next() -> Int {
            lock.withLock {
                value += 1
                return value
            }
        }
    }
}

/// A subject whose sinks misbehave as `fault` says.
struct MisbehavingNoticeSubject<Inner: NoticeSinkConformanceSubject>: NoticeSinkConformanceSubject {
    let fault: SinkConformanceCheck
    let inner: Inner

    func makeSink() async throws -> NoticeSinkUnderTest { try wrap(try await inner.makeSink()) }

    func makeBrokenSink() async throws -> NoticeSinkUnderTest? { try await inner.makeBrokenSink().map(wrap) }

    private func wrap(_ tested: NoticeSinkUnderTest) throws -> NoticeSinkUnderTest {
        guard let batching = tested.sink as? any BatchingNoticeSink else { throw CocoaError(.featureUnsupported) }
        var wrapped = tested
        wrapped.sink = MisbehavingNoticeSink(fault: fault, inner: batching)
        return wrapped
    }
}
