import Foundation
import SyncCoordinator

/// The dashboard's expiry calendar: the plan's events (`Hub.planEvents`, what `/api/plan` lists)
/// counted by week for the next twelve weeks, the first starting at the beginning of today in the
/// display zone. Deletions (archive-then-delete included) and field erasures are expiries, the bars
/// of the chart; notices are counted beside them. Events past the twelfth week are left out.
struct ExpiryCalendar: Sendable {
    static let weekCount = 12
    /// The horizon the plan is asked for: twelve weeks from now covers every week shown.
    static let horizonDays = 7 * weekCount

    struct Week: Sendable, Equatable {
        var start: Date
        var deletes = 0
        var erasures = 0
        var notices = 0
        var expiries: Int { deletes + erasures }
    }

    var weeks: [Week]
    /// The first instant after the last week.
    var end: Date
    var zone: TimeZone

    init(events: [Planner.Event], now: Date, zone: TimeZone) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let first = calendar.startOfDay(for: now)
        let starts = (0...Self.weekCount).map { calendar.date(byAdding: .day, value: 7 * $0, to: first) ?? first }
        var weeks = starts.dropLast().map { Week(start: $0) }
        for event in events {
            // The plan starts at now: an event due now (or overdue) is in the first week.
            guard event.date < starts[Self.weekCount] else { continue }
            let index = max(0, (starts.lastIndex { $0 <= event.date } ?? 0))
            switch event.kind {
            case "delete", "archive-then-delete": weeks[index].deletes += 1
            case "erase-fields": weeks[index].erasures += 1
            case "notify", "reconfirm": weeks[index].notices += 1
            default: continue
            }
        }
        self.weeks = weeks
        self.end = starts[Self.weekCount]
        self.zone = zone
    }

    var totalExpiries: Int { weeks.reduce(0) { $0 + $1.expiries } }

    /// One bar of the chart, in the SVG's coordinates (integers).
    struct Bar: Sendable {
        var x: Int, y: Int, width: Int, height: Int, center: Int, countY: Int, dateY: Int
    }

    static let width = 720
    static let height = 250
    static let left = 12
    static let baseline = 205
    static let tallest = 165

    /// Bars scaled to the busiest week (a week with none has height 0).
    var bars: [Bar] {
        let slot = (Self.width - 2 * Self.left) / Self.weekCount
        let most = max(1, weeks.map(\.expiries).max() ?? 0)
        return weeks.enumerated().map { index, week in
            let height = week.expiries == 0 ? 0 : max(2, week.expiries * Self.tallest / most)
            let x = Self.left + index * slot + slot / 5
            let width = slot * 3 / 5
            return Bar(
                x: x, y: Self.baseline - height, width: width, height: height, center: x + width / 2, countY: Self.baseline - height - 6,
                dateY: Self.baseline + 20)
        }
    }
}
