import Foundation
import RetentionStore
import Testing

extension StoreConformance {
    /// `AlertStore`: a key is claimed by one claimant only (also by two instances at once), a sent mark
    /// and its audit entry are written together, a failed mail's claims are released, a stale claim is
    /// taken over, ended events are forgotten, and the marks survive a reopen.
    static func checkAlertMarks(_ fixture: any StoreFixture) async throws {
        let store = fixture.store
        let at = Self.at
        #expect(try await store.alertMarks().isEmpty)
        #expect(try await store.claimAlerts(["approval/c/c-1", "dead/c/op-1"], claimant: "one", at: at, staleBefore: at) == ["approval/c/c-1", "dead/c/op-1"])
        #expect(try await store.claimAlerts(["dead/c/op-1", "overdue/c", "overdue/c"], claimant: "two", at: at, staleBefore: at) == ["overdue/c"],
                "a key claimed by another is left alone")

        // Two instances claiming the same keys at once: every key goes to exactly one of them.
        let other = try await fixture.reopen()
        let keys = (0..<40).map { "dead/c/op-race-\($0)" }
        async let mine = store.claimAlerts(keys, claimant: "three", at: at, staleBefore: at)
        async let theirs = other.claimAlerts(keys.reversed(), claimant: "four", at: at, staleBefore: at)
        let (a, b) = try await (mine, theirs)
        #expect(a.isDisjoint(with: b))
        #expect(a.union(b) == Set(keys))

        try await store.markAlertsSent(["approval/c/c-1"], claimant: "one", at: at.addingTimeInterval(5), audit: [
            AuditDraft(at: at, event: "alert.sent", connector: "c", detail: ["kind": "approval", "events": "approval/c/c-1", "count": "1"])
        ])
        let entries = try await store.auditEntries(after: 0, limit: 10)
        #expect(entries.map(\.draft.event) == ["alert.sent"])
        #expect(entries.first?.draft.detail["events"] == "approval/c/c-1")
        #expect(try await store.verifyAudit().ok)
        try await store.markAlertsSent(["overdue/c"], claimant: "one", at: at, audit: [])
        try await store.releaseAlerts(["dead/c/op-1", "overdue/c"], claimant: "one")
        var marks = Dictionary(uniqueKeysWithValues: try await other.alertMarks().map { ($0.key, $0) })
        #expect(marks["approval/c/c-1"]?.state == .sent)
        #expect(marks["approval/c/c-1"]?.sentAt == at.addingTimeInterval(5))
        #expect(marks["dead/c/op-1"] == nil, "released: claimed again at the next check")
        #expect(marks["overdue/c"]?.state == .claimed, "another claimant's mark is neither marked sent nor released by this one")
        #expect(marks["overdue/c"]?.claimant == "two")

        // A claim older than the lease is taken over; a sent mark never is.
        let later = at.addingTimeInterval(700)
        #expect(try await store.claimAlerts(["overdue/c", "approval/c/c-1"], claimant: "five", at: later, staleBefore: at.addingTimeInterval(100))
                == ["overdue/c"])
        // Ended events: sent marks and stale claims are forgotten, a fresh claim is not.
        try await store.forgetAlerts(["approval/c/c-1", "overdue/c", "dead/c/op-race-0"], staleBefore: at.addingTimeInterval(100))
        marks = Dictionary(uniqueKeysWithValues: try await store.alertMarks().map { ($0.key, $0) })
        #expect(marks["approval/c/c-1"] == nil)
        #expect(marks["overdue/c"]?.claimant == "five")
        #expect(marks["dead/c/op-race-0"] == nil, "a stale claim of an ended event goes too")
        #expect(marks.count == 1 + 39)
        #expect(try await store.claimAlerts(["approval/c/c-1"], claimant: "six", at: later, staleBefore: later) == ["approval/c/c-1"], "forgotten: alerted again")
        await release(other)
        let reopened = try await fixture.reopen()
        #expect(try await reopened.alertMarks().count == 41, "marks are durable")
        await release(reopened)
    }
}
