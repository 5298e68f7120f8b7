import Foundation
import RetentionCore
import RetentionStore
import RetentionTesting
import SyncCoordinator
import Testing

/// A scheduled re-sync reads again only the rows that changed since the last sync; a change of policy
/// makes every row new again, so no record keeps an outcome computed under the old policy.
@Suite struct ResyncTests {
    /// Three payment contacts collected in January 2025: kept five years under kr-pipa.
    static let contacts = (1...3).map {
        record(id: "p-\($0)", created: "2025-01-1\($0)", purpose: "payment", consent: nil, email: "p\($0)@example.com", interests: nil, line: $0 + 1)
    }

    @Test func aResyncReadsOnlyTheRowsThatChanged() async throws {
        let harness = try SyncHarness(Self.contacts)
        let source = CountingSource(base: harness.crm)

        let first = try await sync(harness, source: source)
        #expect(first.pulled == 3)
        #expect(source.take() == .init(read: ["p-1", "p-2", "p-3"], unchanged: 0))

        let second = try await sync(harness, source: source)
        #expect(second.pulled == 3, "unchanged rows still count as pulled")
        #expect(source.take() == .init(read: [], unchanged: 3))

        // A field the policy does not read changes: the row is read again, the others are not.
        await harness.crm.upsert(record(id: "p-2", created: "2025-01-12", purpose: "payment", consent: nil, email: "new@example.com", interests: nil, line: 3))
        _ = try await sync(harness, source: source)
        #expect(source.take() == .init(read: ["p-2"], unchanged: 2))
        #expect(await harness.crm.deletedIDs.isEmpty)
    }

    @Test func aPolicyChangeReadsEveryRowAgainAndAppliesTheNewPeriods() async throws {
        var harness = try SyncHarness(Self.contacts)
        let source = CountingSource(base: harness.crm)
        _ = try await sync(harness, source: source)
        _ = try await sync(harness, source: source)
        #expect(source.take().unchanged == 3)

        // Payment records are now kept one year: all three are due, though no row changed.
        var shorter = harness.policy
        let payment = try #require(shorter.rules.firstIndex { $0.name == "payment" })
        shorter.rules[payment].period = Period(years: 1)
        harness.policy = shorter
        let changed = try await sync(harness, source: source)
        #expect(source.take() == .init(read: ["p-1", "p-2", "p-3"], unchanged: 0))
        #expect(changed.deleted == 3)
        #expect(Set(await harness.crm.deletedIDs) == ["p-1", "p-2", "p-3"])
    }

    private func sync(_ harness: SyncHarness, source: CountingSource) async throws -> SyncSummary {
        let runtime = ConnectorRuntime(name: "crm", policy: harness.policy, safety: harness.safety, source: source, writer: harness.crm)
        return try await harness.coordinator(at: asOf).sync(runtime, options: .init())
    }
}

/// Hands over another source's scan and notes what it read: the ids of the rows turned into records
/// (new or changed) and how many rows it recognised as unchanged.
final class CountingSource: ScanningSource, @unchecked Sendable {
    struct Counts: Equatable {
        var read: [String] = []
        var unchanged = 0
    }

    let base: InMemoryCRM
    private let lock = NSLock()
    private var counts = Counts()

    init(base: InMemoryCRM) { self.base = base }

    /// What the scans read since the last call (sorted ids), and resets.
    func take() -> Counts {
        lock.withLock {
            defer { counts = Counts() }
            return Counts(read: counts.read.sorted(), unchanged: counts.unchanged)
        }
    }

    func check() async throws { try await base.check() }
    func pull(_ request: PullRequest) -> AsyncThrowingStream<RecordBatch, any Error> { base.pull(request) }
    func read(ids: [String]) async throws -> [SourceRecord] { try await base.read(ids: ids) }

    func scan(_ request: PullRequest, known: KnownRows, keys: ScanKeys) -> AsyncThrowingStream<ScanBatch, any Error> {
        var batches = base.scanRecords(request, known: known, keys: keys).makeAsyncIterator()
        return AsyncThrowingStream { [self] in
            guard let batch = try await batches.next() else { return nil }
            lock.withLock {
                counts.read += batch.rows.map(\.id)
                counts.unchanged += batch.unchanged.count
            }
            return batch
        }
    }
}
