public import Foundation

/// One thing the lifecycle will do to a record, and when: what `lethe plan` lists.
public struct TimelineEvent: Sendable, Equatable, Codable {
    public var date: Date
    /// `delete`, `archive-then-delete`, `erase-fields`, `notify` (an extension notice), `reconfirm`,
    /// `quarantined` or `held`.
    public var kind: String
    /// The rule, or `*` for the whole record, `-` for a quarantine.
    public var rule: String
    /// For a quarantine: why.
    public var reason: String?

    public init(date: Date, kind: String, rule: String, reason: String? = nil) {
        self.date = date
        self.kind = kind
        self.rule = rule
        self.reason = reason
    }
}

extension Policy {
    /// The earliest instant after `now` at which `evaluate` could decide otherwise for this record
    /// when nothing about it changes (its row, a hold, a decision): a creation date still in the
    /// future, an expiry, a notice window or a re-confirmation window opening. Nil when only such a
    /// change can. Never later than the true next change (an earlier one only costs an evaluation).
    public func nextChange(_ facts: SourceFacts, layout: PolicyLayout, held: Bool, now: Date) -> Date? {
        nextChange(facts, interpretation: interpret(facts, layout: layout, now: now), layout: layout, held: held, now: now)
    }

    /// The same, with the record's interpretation at `now` already made.
    public func nextChange(_ facts: SourceFacts, interpretation: Interpretation, layout: PolicyLayout, held: Bool, now: Date) -> Date? {
        if let createdAt = facts.createdAt, createdAt > now { return createdAt }
        guard facts.quarantine == nil, !held, case .valid(let record) = interpretation else { return nil }
        var next: Date?
        func consider(_ date: Date) {
            if date > now, next.map({ date < $0 }) ?? true { next = date }
        }
        for name in record.purposes {
            guard let rule = rule(named: name), let expiry = record.expiries[name] else { continue }
            consider(expiry)
            if let notice = rule.notice { consider(expiry.addingTimeInterval(-notice.lead.approximateSeconds)) }
            if let reconfirm = rule.reconfirm {
                let base = reconfirm.basisFields(ruleBasis: rule.basis).compactMap { field in
                    layout.dateIndex[field].flatMap { facts.dates[$0] }
                }.max() ?? record.createdAt
                if let window = reconfirm.nextWindow(from: base, after: now, zone: zone) { consider(window) }
            }
        }
        return next
    }

    /// What will happen to a record from `now` until `end`: the lifecycle itself (`evaluate`) run at
    /// now and at each next change, so the plan and the sync can never disagree.
    public func timeline(
        _ facts: SourceFacts, layout: PolicyLayout, previous: LifecycleState?, held: Bool, now: Date, until end: Date
    ) -> [TimelineEvent] {
        var events: [TimelineEvent] = []
        var instant = now
        var state = previous
        for _ in 0..<256 {
            let interpretation = interpret(facts, layout: layout, now: instant)
            if case .quarantined(let reason) = interpretation {
                if instant == now { events.append(TimelineEvent(date: now, kind: "quarantined", rule: "-", reason: reason.description)) }
            } else if held {
                return [TimelineEvent(date: now, kind: "held", rule: "*")]
            } else {
                let decision = evaluate(interpretation, previous: state, held: false, now: instant)
                if decision.operations.contains(where: { $0.kind == .delete }) {
                    let kind = action == .archiveThenDelete ? "archive-then-delete" : "delete"
                    events.append(TimelineEvent(date: instant, kind: kind, rule: "*"))
                    return events
                }
                for operation in decision.operations {
                    switch operation.kind {
                    case .eraseFields: events.append(TimelineEvent(date: instant, kind: "erase-fields", rule: operation.rule))
                    case .notify:
                        switch Policy.noticeKind(fields: operation.fields) {
                        case .extension: events.append(TimelineEvent(date: instant, kind: "notify", rule: operation.rule))
                        case .reconfirm: events.append(TimelineEvent(date: instant, kind: "reconfirm", rule: operation.rule))
                        case .result: break
                        }
                    case .extend, .archive, .delete: break
                    }
                }
                state = decision.state
            }
            guard let next = nextChange(facts, layout: layout, held: held, now: instant), next <= end else { break }
            instant = next
        }
        return events
    }
}

extension ReconfirmRule {
    /// When the window of the first cycle (counted from `base`) that is not open at `now` opens.
    public func nextWindow(from base: Date, after now: Date, zone: TimeZone) -> Date? {
        let leadSeconds = lead.approximateSeconds
        func window(_ multiple: Int) -> Date {
            Period(years: every.years * multiple, months: every.months * multiple, days: every.days * multiple)
                .added(to: base, in: zone).addingTimeInterval(-leadSeconds)
        }
        let step = max(every.approximateSeconds, 1)
        let estimate = (now.timeIntervalSince(base) + leadSeconds) / step
        var multiple = max(1, Int(min(max(estimate, 0), 1_000_000)) - 1)
        while multiple > 1, window(multiple - 1) > now { multiple -= 1 }
        for _ in 0..<1000 {
            if window(multiple) > now { return window(multiple) }
            multiple += 1
        }
        return nil
    }
}
