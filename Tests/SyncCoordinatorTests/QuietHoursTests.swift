import Foundation
import RetentionCore
import RetentionStore
import RetentionTesting
import SyncCoordinator
import Testing

struct QuietHoursTests {
    static func quietPolicy() -> Policy {
        let policy = Policy.krPIPA.modifying(rule: "marketing") { rule in
            rule.notice?.quietHours = QuietHours(parsing: "21:00-08:00")
        }
        return policy
    }

    @Test func aNoticeDueInQuietHoursWaitsForTheWindowWithoutFailing() async throws {
        var harness = try SyncHarness([record(id: "notice", created: "2024-12-15", purpose: "marketing", consent: "Y", email: "notice@example.com")])
        harness.policy = Self.quietPolicy()
        let night = try await harness.sync(at: "2026-11-29T22:00:00+09:00")
        #expect(night.noticesSent == 0 && night.failed == 0)
        #expect(await harness.notices.delivered.isEmpty)
        let pending = try await harness.store.operations(connector: "crm", statuses: [.pending])
        #expect(pending.map(\.kind) == [.notify])
        let stillNight = try await harness.sync(at: "2026-11-30T07:59:00+09:00")
        #expect(stillNight.noticesSent == 0 && stillNight.failed == 0)
        let morning = try await harness.sync(at: "2026-11-30T08:00:00+09:00")
        #expect(morning.noticesSent == 1)
        #expect(await harness.notices.delivered.count == 1)
        #expect(try await harness.store.operations(connector: "crm", statuses: [.dead]).isEmpty)
    }

    @Test func theRecipientsOwnZoneDecidesWhenItIsNight() async throws {
        // 22:00 in Seoul is 05:00 in Los Angeles (PST): night for both. 09:00 in Seoul is 16:00 the
        // day before in Los Angeles: day there, so the Los Angeles recipient gets it; the one with an
        // unknown zone counts in the policy's zone.
        let records = [
            record(id: "la", created: "2024-12-15", purpose: "marketing", consent: "Y", email: "la@example.com", extra: ["time_zone": "America/Los_Angeles"]),
            record(id: "bad", created: "2024-12-15", purpose: "marketing", consent: "Y", email: "bad@example.com", extra: ["time_zone": "Mars/Olympus"]),
        ]
        var harness = try SyncHarness(records)
        harness.policy = Self.quietPolicy()
        harness.policy = harness.policy.modifying(rule: "marketing") { rule in
            rule.notice?.quietHours = QuietHours(parsing: "21:00-10:00")
        }
        let seoulMorning = try await harness.sync(at: "2026-11-30T09:00:00+09:00")
        #expect(seoulMorning.noticesSent == 1 && seoulMorning.failed == 0)
        #expect(await harness.notices.delivered.map(\.recipient) == ["la@example.com"])
        let seoulLate = try await harness.sync(at: "2026-11-30T10:00:00+09:00")
        #expect(seoulLate.noticesSent == 1)
        #expect(await harness.notices.delivered.map(\.recipient) == ["la@example.com", "bad@example.com"])
    }

    @Test func windows() {
        let zone = TimeZone(identifier: "Asia/Seoul")!
        let quiet = QuietHours(parsing: "21:00-08:00")!
        #expect(quiet.end(ifInside: date("2026-11-29T20:59:00+09:00"), zone: zone) == nil)
        #expect(quiet.end(ifInside: date("2026-11-29T21:00:00+09:00"), zone: zone) == date("2026-11-30T08:00:00+09:00"))
        #expect(quiet.end(ifInside: date("2026-11-30T03:00:00+09:00"), zone: zone) == date("2026-11-30T08:00:00+09:00"))
        #expect(quiet.end(ifInside: date("2026-11-30T08:00:00+09:00"), zone: zone) == nil)
        let day = QuietHours(parsing: "12:00-13:30")!
        #expect(day.end(ifInside: date("2026-11-30T12:10:00+09:00"), zone: zone) == date("2026-11-30T13:30:00+09:00"))
        for bad in ["21:00", "25:00-08:00", "08:00-08:00", "9-10", ""] { #expect(QuietHours(parsing: bad) == nil) }
    }
}
