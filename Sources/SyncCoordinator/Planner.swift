public import Foundation
public import RetentionCore

/// What will happen to records within a horizon, computed without changing anything.
public struct Planner: Sendable {
    public struct Event: Sendable, Codable, Equatable {
        public var date: Date
        public var connector: String
        public var reference: String?
        public var line: Int?
        public var kind: String
        public var rule: String
        /// For quarantined records: why.
        public var reason: String?
    }

    public var policy: Policy
    public var now: Date
    public var horizon: Period

    public init(policy: Policy, now: Date, horizon: Period) {
        self.policy = policy
        self.now = now
        self.horizon = horizon
    }

    /// The events of one record: due now, or before `now + horizon`.
    public func events(for record: SourceRecord, connector: String, reference: String?, previous: LifecycleState?, held: Bool, duplicateLines: [Int] = []) -> [Event] {
        let end = horizon.added(to: now, in: policy.zone)
        let interpretation = duplicateLines.isEmpty ? policy.interpret(record, now: now) : .quarantined(.duplicateID(lines: duplicateLines))
        func event(_ date: Date, _ kind: String, _ rule: String, _ reason: String? = nil) -> Event {
            Event(date: date, connector: connector, reference: reference, line: record.line, kind: kind, rule: rule, reason: reason)
        }
        switch interpretation {
        case .quarantined(let reason):
            return [event(now, "quarantined", "-", reason.description)]
        case .valid(let facts):
            if held { return [event(now, "held", "*")] }
            var events: [Event] = []
            let final = facts.finalExpiry
            if final <= end {
                events.append(event(max(final, now), policy.action == .archiveThenDelete ? "archive-then-delete" : "delete", "*"))
            }
            for name in facts.purposes where final > now {
                guard let rule = policy.rule(named: name), let expiry = facts.expiries[name] else { continue }
                if expiry < final, expiry <= end, facts.pendingErasures[name] != nil {
                    events.append(event(max(expiry, now), "erase-fields", name))
                }
                if let reconfirm = rule.reconfirm, facts.hasEmail, expiry > now, facts.consents[reconfirm.consentField] == true,
                    let base = policy.reconfirmationBase(rule: rule, in: record), let cycle = reconfirm.dueCycle(from: base, now: end, zone: policy.zone),
                    rule.asksReconfirmation(cycle: cycle, expiry: expiry, noticedFor: previous?.rules[name]?.reconfirmedFor)
                {
                    events.append(event(max(cycle.addingTimeInterval(-reconfirm.lead.approximateSeconds), now), "reconfirm", name))
                }
                guard let notice = rule.notice, facts.hasEmail, expiry > now else { continue }
                if let field = notice.requiresConsentField, facts.consents[field] != true { continue }
                if previous?.rules[name]?.noticedFor == expiry { continue }
                let noticeDate = max(expiry.addingTimeInterval(-notice.lead.approximateSeconds), now)
                if noticeDate <= end { events.append(event(noticeDate, "notify", name)) }
            }
            return events
        }
    }
}
