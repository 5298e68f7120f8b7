import Foundation
import RetentionCore
import RetentionStore
import Testing

/// What claiming costs at scale: `LETHE_CLAIM_BENCH_OPERATIONS` pending operations (2,000 unless
/// set; 100000 for the figures in docs/operations.md) claimed in pages of 25,000, one statement a page,
/// then renewed, then completed as the executor completes them (for comparison), then the claims
/// released. Prints the times; checks that every operation was claimed and every claim released.
enum ClaimCost {
    static let operations = ProcessInfo.processInfo.environment["LETHE_CLAIM_BENCH_OPERATIONS"].flatMap(Int.init) ?? 2_000

    static func measure(_ fixture: any StoreFixture, kind: StoreKind) async throws {
        let store = fixture.store
        var positions: [Int64] = []
        for start in stride(from: 0, to: operations, by: 25_000) {
            positions += try await StoreConformance.queueErasures(store, count: min(25_000, operations - start), from: start)
        }
        let now = Date()
        func seconds(_ body: () async throws -> Void) async rethrows -> Double {
            let started = ContinuousClock.now
            try await body()
            return ExecutionSeconds.of(ContinuousClock.now - started)
        }
        var claimed = 0
        let claiming = try await seconds {
            for start in stride(from: 0, to: positions.count, by: 25_000) {
                let page = Array(positions[start..<min(start + 25_000, positions.count)])
                claimed += try await store.claim(connector: "c", positions: page, by: "bench", until: now.addingTimeInterval(600), now: now).count
            }
        }
        #expect(claimed == operations)
        let renewing = try await seconds {
            for start in stride(from: 0, to: positions.count, by: 25_000) {
                let page = Array(positions[start..<min(start + 25_000, positions.count)])
                _ = try await store.claim(connector: "c", positions: page, by: "bench", until: now.addingTimeInterval(1_200), now: now)
            }
        }
        let pending = try await store.operations(connector: "c", statuses: [.pending])
        let completing = try await seconds {
            for start in stride(from: 0, to: pending.count, by: 5_000) {
                try await store.complete(pending[start..<min(start + 5_000, pending.count)].map {
                    OperationCompletion(
                        operationID: $0.id, status: .done, attempts: 1, receipt: "erased",
                        audit: [AuditDraft(at: StoreConformance.at, event: "operation.done", connector: "c", reference: $0.reference, operation: $0.id)])
                })
            }
        }
        var released = 0
        let releasing = try await seconds { released = try await store.releaseClaims(connector: "c", by: "bench", now: now) }
        #expect(released == operations)
        #expect(try await fixture.texts("SELECT claimed_by FROM outbox_claims").isEmpty)
        print(String(
            format: "claim cost (%@, %d operations): claiming %.3f s, renewing %.3f s, releasing %.3f s; completing them %.3f s",
            kind.rawValue, operations, claiming, renewing, releasing, completing))
    }
}

enum ExecutionSeconds {
    static func of(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}

@Suite struct ClaimCostTests {
    @Test func sqliteClaimsAPageInOneStatement() async throws {
        let fixture = try await StoreKind.sqlite.make()
        do { try await ClaimCost.measure(fixture, kind: .sqlite) } catch { await fixture.close(); throw error }
        await fixture.close()
    }

    @Test(.enabled(if: PostgresFixture.serverURL != nil, PostgresFixture.skipReason))
    func postgresClaimsAPageInOneStatement() async throws {
        let fixture = try await StoreKind.postgres.make()
        do { try await ClaimCost.measure(fixture, kind: .postgres) } catch { await fixture.close(); throw error }
        await fixture.close()
    }
}
