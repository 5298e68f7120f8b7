import ConnectorConformance
import Foundation
import RetentionCore

/// A sink that breaks the one rule `fault` checks, wrapped around a working one: the suite must
/// catch each of them.
struct MisbehavingArchiveSink: ArchiveSink {
    let fault: SinkConformanceCheck
    let inner: any ArchiveSink
    private let calls = Counter()

    func archive(_ entries: [ArchiveEntry]) async throws -> String {
        let call = calls.next()
        let entries = entries.map { entry in
            var entry = entry
            switch fault {
            case .rearchiveStoresNothingNew: entry.operationID += "-\(call)"
            case .entriesReadBackExactly:
                entry.archivedAt = Date(timeIntervalSince1970: entry.archivedAt.timeIntervalSince1970.rounded(.down))
            case .unsafeConnectorNameIsRefused: entry.connector = SinkConformanceFixtures.connector
            default: break
            }
            return entry
        }
        do {
            let receipt = try await inner.archive(entries)
            return fault == .archiveReturnsReceipt ? "" : receipt
        } catch let error as any ConnectorFailure {
            switch fault {
            case .storageFailureIsTransient:
                throw ConnectorError(code: error.code, message: error.message, isTransient: false)
            case .archiveErrorsHoldNoPersonalData:
                throw ConnectorError(
                    code: error.code, message: "cannot archive \(entries.map(\.recordID))",
                    isTransient: error.isTransient)
            default: throw error
            }
        }
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
struct MisbehavingArchiveSubject<Inner: ArchiveSinkConformanceSubject>: ArchiveSinkConformanceSubject {
    let fault: SinkConformanceCheck
    let inner: Inner

    var secrets: [String] { inner.secrets }

    func makeSink() async throws -> ArchiveSinkUnderTest { wrap(try await inner.makeSink()) }

    func makeBrokenSink() async throws -> ArchiveSinkUnderTest? { try await inner.makeBrokenSink().map(wrap) }

    private func wrap(_ tested: ArchiveSinkUnderTest) -> ArchiveSinkUnderTest {
        var wrapped = tested
        wrapped.sink = MisbehavingArchiveSink(fault: fault, inner: tested.sink)
        return wrapped
    }
}
