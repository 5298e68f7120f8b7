public import Foundation
public import RetentionCore
public import RetentionStore

/// What will happen to records within a horizon, computed without changing anything: the lifecycle's
/// own timeline (`Policy.timeline`), so a plan and a sync never disagree.
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
    public var layout: PolicyLayout
    public var now: Date
    public var horizon: Period

    public init(policy: Policy, now: Date, horizon: Period) {
        self.policy = policy
        self.layout = PolicyLayout(policy)
        self.now = now
        self.horizon = horizon
    }

    /// The events of one record from its facts (as the state keeps them): due now, or before `now + horizon`.
    public func events(
        facts: SourceFacts, connector: String, reference: String?, line: Int?, previous: LifecycleState?, held: Bool,
        duplicateLines: [Int] = []
    ) -> [Event] {
        if !duplicateLines.isEmpty {
            return [Event(date: now, connector: connector, reference: reference, line: line, kind: "quarantined", rule: "-",
                          reason: QuarantineReason.duplicateID(lines: duplicateLines).description)]
        }
        let end = horizon.added(to: now, in: policy.zone)
        return policy.timeline(facts, layout: layout, previous: previous, held: held, now: now, until: end).map {
            Event(date: $0.date, connector: connector, reference: reference, line: line, kind: $0.kind, rule: $0.rule, reason: $0.reason)
        }
    }

    /// The events of one record read from its source.
    public func events(
        for record: SourceRecord, connector: String, reference: String?, previous: LifecycleState?, held: Bool, duplicateLines: [Int] = []
    ) -> [Event] {
        events(facts: policy.facts(of: record, layout: layout), connector: connector, reference: reference, line: record.line,
               previous: previous, held: held, duplicateLines: duplicateLines)
    }

    /// The events of every record of a connector as the state keeps it (no source is read): what
    /// `lethe plan` and `GET /api/plan` list. Records not read yet since an upgrade (no facts kept)
    /// are not planned until the next sync reads them.
    public func events(connector: String, store: any StateStore) async throws -> [Event] {
        let held = try await store.heldReferences(connector: connector)
        var events: [Event] = []
        var after: Int64?
        while true {
            let page = try await store.recordPage(connector: connector, after: after, limit: 5_000)
            guard let last = page.last else { return events }
            after = last.key
            for stored in page {
                guard let facts = stored.facts else { continue }
                events += self.events(
                    facts: facts, connector: connector, reference: stored.reference, line: stored.line, previous: stored.state,
                    held: held.contains(stored.reference), duplicateLines: stored.duplicateLines)
            }
        }
    }
}
