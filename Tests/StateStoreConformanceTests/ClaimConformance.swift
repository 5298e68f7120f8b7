import Foundation
import RetentionCore
import RetentionStore
import Testing

extension StoreConformance {
    /// `count` pending field erasures of connector `connector`, one record each, queued in one write;
    /// returns their positions, oldest first.
    static func queueErasures(_ store: any StateStore, connector: String = "c", count: Int, from first: Int = 0) async throws -> [Int64] {
        let at = Self.at
        var upserts: [RecordUpsert] = []
        for index in first..<(first + count) {
            let id = "\(connector)-\(index)"
            let operation = OutboxOperation(
                id: store.operationIDs.make(connector: connector, recordID: id, operation: PlannedOperation(kind: .eraseFields, rule: "marketing", cycle: at)),
                connector: connector, reference: store.reference(connector: connector, recordID: id), recordID: id, kind: .eraseFields,
                rule: "marketing", cycle: at, fields: [ErasedField(field: "interests", value: "")], createdAt: at)
            upserts.append(RecordUpsert(
                key: store.fingerprints.key(connector: connector, id: id), reference: operation.reference, recordID: id, digest: 1,
                facts: SourceFacts(dates: [at], purposes: 1, hasEmail: true), line: index + 2, state: LifecycleState(phase: .expiring),
                nextDue: nil, reason: nil, operations: [operation], isNew: true))
        }
        try await store.write(connector: connector, RecordWrites(at: at, upserts: upserts))
        let pending = try await store.operations(connector: connector, statuses: [.pending])
        return pending.suffix(count).map(\.position)
    }

    /// `OutboxClaimStore`: two store objects on one state ("two instances") claiming overlapping
    /// positions get disjoint sets, also when they ask at once; a claimant renews its own claim; an
    /// expired claim is taken over; a done operation is never claimed again; positions of another
    /// connector are not claimed; released claims are free at once, lapsed ones are forgotten.
    static func checkClaims(_ fixture: any StoreFixture) async throws {
        let store = fixture.store
        let at = Self.at
        let until = at.addingTimeInterval(600)
        let other = try await fixture.reopen()
        let positions = try await queueErasures(store, count: 10)
        let foreign = try await queueErasures(store, connector: "elsewhere", count: 1)
        #expect(positions.count == 10 && foreign.count == 1)

        let first = try await store.claim(connector: "c", positions: Array(positions.prefix(6)), by: "instance-a", until: until, now: at)
        #expect(first == Set(positions.prefix(6)))
        let second = try await other.claim(connector: "c", positions: positions + foreign, by: "instance-b", until: until, now: at)
        #expect(second == Set(positions.suffix(4)), "only what the first instance does not hold, and only this connector's")
        #expect(try await store.claim(connector: "c", positions: positions, by: "instance-a", until: until, now: at.addingTimeInterval(10))
            == Set(positions.prefix(6)), "a claimant renews its own claims")
        #expect(try await fixture.texts("SELECT claimed_by FROM outbox_claims").sorted()
            == Array(repeating: "instance-a", count: 6) + Array(repeating: "instance-b", count: 4))

        // Expired: the first instance stopped; its claims are taken over once they lapse, not before.
        #expect(try await other.claim(connector: "c", positions: positions, by: "instance-b", until: until, now: until).count == 4)
        let takenOver = try await other.claim(
            connector: "c", positions: positions, by: "instance-b", until: until.addingTimeInterval(600), now: until.addingTimeInterval(1))
        #expect(takenOver == Set(positions))

        // A done operation is never claimed again, by anyone, its claim released or lapsed.
        let operations = try await store.operations(connector: "c", statuses: [.pending])
        try await other.complete(OperationCompletion(operationID: operations[0].id, status: .done, attempts: 1, receipt: "erased", audit: []))
        #expect(try await other.claim(connector: "c", positions: [positions[0]], by: "instance-b", until: until, now: at).isEmpty)
        #expect(try await store.claim(connector: "c", positions: [positions[0]], by: "instance-a", until: until, now: until.addingTimeInterval(1_000)).isEmpty)

        // Released claims are free at once; another claimant's and another connector's are untouched.
        let theirs = try await store.claim(connector: "elsewhere", positions: foreign, by: "instance-b", until: until, now: at)
        #expect(theirs == Set(foreign))
        #expect(try await other.releaseClaims(connector: "c", by: "instance-b", now: at) == 10)
        #expect(try await fixture.texts("SELECT claimed_by FROM outbox_claims") == ["instance-b"], "the other connector's claim stays")
        #expect(try await store.claim(connector: "c", positions: positions, by: "instance-a", until: until, now: at) == Set(positions.dropFirst()))
        // Lapsed claims are forgotten by the next release, whoever makes it.
        #expect(try await other.releaseClaims(connector: "c", by: "nobody", now: until.addingTimeInterval(1)) == 10)
        #expect(try await fixture.texts("SELECT claimed_by FROM outbox_claims").isEmpty)

        // Both asking at once for the same positions, again and again: every time, disjoint sets that
        // together hold every position.
        let raced = try await queueErasures(store, count: 200, from: 10)
        for round in 0..<10 {
            let now = at.addingTimeInterval(Double(round) * 1_000)
            let sets = try await withThrowingTaskGroup(of: (Int, Set<Int64>).self) { group in
                for (index, claimer) in [store, other].enumerated() {
                    group.addTask {
                        (index, try await claimer.claim(connector: "c", positions: raced, by: "racer-\(round)-\(index)", until: now.addingTimeInterval(600), now: now))
                    }
                }
                return try await group.reduce(into: [Int: Set<Int64>]()) { $0[$1.0] = $1.1 }
            }
            let (a, b) = (sets[0] ?? [], sets[1] ?? [])
            #expect(a.isDisjoint(with: b), "round \(round): no position claimed twice")
            #expect(a.union(b) == Set(raced), "round \(round): every position claimed once")
        }
        await release(other)
    }
}
