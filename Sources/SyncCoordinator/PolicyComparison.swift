public import Foundation
public import RetentionCore
public import RetentionStore

/// What adopting another policy would change, record by record, computed from the state without
/// changing anything: each record's timeline (`Policy.timeline`, the lifecycle the sync runs) under the
/// current policy and under the other one, from the facts the state keeps (`FactsTranslation`) and the
/// record's lifecycle as it stands. `lethe plan --policy` reports it.
public struct PolicyComparison: Sendable {
    /// How a record's outcome within the horizon differs, the first that applies in this order.
    public enum Change: String, Sendable, Codable, CaseIterable {
        /// Deleted within the horizon under the other policy, under the current one never.
        case newlyDeleted
        /// Deleted within the horizon under the current policy, under the other one never.
        case noLongerDeleted
        /// Deleted under both, earlier under the other policy (and within the horizon).
        case deletedSooner
        /// Deleted under both, later under the other policy (the current deletion within the horizon).
        case deletedLater
        /// The fields erased within the horizon, or when, differ.
        case erasureDiffers
        /// The notices (extension or re-confirmation) sent within the horizon, or when, differ.
        case noticeDiffers
        case same

        /// The name reports use (`newly-deleted`, …): the table's column of `lethe plan --policy`,
        /// shown beside the dashboard's words.
        public var label: String {
            switch self {
            case .newlyDeleted: "newly-deleted"
            case .noLongerDeleted: "no-longer-deleted"
            case .deletedSooner: "deleted-sooner"
            case .deletedLater: "deleted-later"
            case .erasureDiffers: "erasure-differs"
            case .noticeDiffers: "notice-differs"
            case .same: "same"
            }
        }
    }

    /// One record's comparison. The dates are those of the event that differs (the deletion, even beyond
    /// the horizon; else the first erasure or notice within it), nil when there is none.
    public struct RecordChange: Sendable, Equatable, Codable {
        public var change: Change
        public var current: Date?
        public var other: Date?
        /// For a deletion sooner or later: the calendar days between the two (in the other policy's zone).
        public var days: Int?
        /// For an erasure or notice: what happens under each policy (`interests, marketing_consent -> none`,
        /// `notify -> reconfirm`), names only.
        public var detail: String?
    }

    /// A record that changes, by its pseudonymous reference.
    public struct Example: Sendable, Equatable, Codable {
        public var reference: String
        public var change: Change
        public var current: Date?
        public var other: Date?
        public var days: Int?
        public var detail: String?
    }

    /// The comparison for one connector.
    public struct Report: Sendable, Codable {
        public var connector: String
        public var currentPolicy: String
        public var otherPolicy: String
        /// Records compared (live records whose facts the state keeps).
        public var records: Int
        /// Records not compared: their facts are read again by the next sync.
        public var notRead: Int
        /// Records by change, every change present (`same` included).
        public var changes: [String: Int]
        /// Fields the other policy reads that the state does not keep, read as empty.
        public var missingFields: [FactsTranslation.MissingField]
        /// A few records per change, by change (in `Change` order), then in the state's order.
        public var examples: [Example]
    }

    public let translation: FactsTranslation
    public let now: Date
    public let horizon: Period

    public init(current: Policy, other: Policy, now: Date, horizon: Period) {
        translation = FactsTranslation(current: current, other: other)
        self.now = now
        self.horizon = horizon
    }

    /// How far a deletion is looked for beyond the horizon, to tell sooner and later from new and never.
    static let deletionLookahead = Period(years: 100)

    /// One record's comparison from the facts the state keeps for it under the current policy.
    public func change(facts: SourceFacts, previous: LifecycleState?, held: Bool, duplicateLines: [Int] = []) -> RecordChange {
        let current = translation.current
        let other = translation.other
        let end = horizon.added(to: now, in: other.zone)
        let currentEnd = horizon.added(to: now, in: current.zone)
        let far = Self.deletionLookahead.added(to: max(end, currentEnd), in: other.zone)
        func outline(_ policy: Policy, _ layout: PolicyLayout, _ facts: SourceFacts, until end: Date) -> Outline {
            guard duplicateLines.isEmpty else { return Outline() }
            let events = policy.timeline(facts, layout: layout, previous: previous, held: held, now: now, until: far)
            var outline = Outline()
            outline.deletion = events.first { $0.kind == "delete" || $0.kind == "archive-then-delete" }?.date
            for event in events where event.date <= end {
                switch event.kind {
                case "erase-fields":
                    for erased in policy.rule(named: event.rule)?.erase ?? [] { outline.erasures.append(Stamped(name: erased.field, date: event.date)) }
                case "notify", "reconfirm":
                    outline.notices.append(Stamped(name: event.kind, date: event.date))
                default: break
                }
            }
            outline.erasures.sort()
            outline.notices.sort()
            return outline
        }
        let before = outline(current, translation.currentLayout, facts, until: currentEnd)
        let after = outline(other, translation.otherLayout, translation.translate(facts), until: end)
        switch (before.deletion, after.deletion) {
        case (nil, let deleted?) where deleted <= end:
            return RecordChange(change: .newlyDeleted, current: nil, other: deleted)
        case (let deleted?, nil) where deleted <= currentEnd:
            return RecordChange(change: .noLongerDeleted, current: deleted, other: nil)
        case (let was?, let will?) where was != will && (will <= end || was <= currentEnd):
            let days = Self.days(from: min(was, will), to: max(was, will), in: other.zone)
            return RecordChange(change: will < was ? .deletedSooner : .deletedLater, current: was, other: will, days: days)
        default:
            break
        }
        if before.erasures != after.erasures {
            return RecordChange(
                change: .erasureDiffers, current: before.erasures.first?.date, other: after.erasures.first?.date,
                detail: Self.names(before.erasures) + " -> " + Self.names(after.erasures))
        }
        if before.notices != after.notices {
            return RecordChange(
                change: .noticeDiffers, current: before.notices.first?.date, other: after.notices.first?.date,
                detail: Self.names(before.notices) + " -> " + Self.names(after.notices))
        }
        return RecordChange(change: .same, current: before.deletion, other: after.deletion)
    }

    /// The comparison for every record of a connector as the state keeps it. Reads the state only.
    public func compare(connector: String, store: any StateStore, examplesPerChange: Int = 3) async throws -> Report {
        let held = try await store.heldReferences(connector: connector)
        var report = Report(
            connector: connector, currentPolicy: translation.current.name, otherPolicy: translation.other.name, records: 0, notRead: 0,
            changes: Dictionary(uniqueKeysWithValues: Change.allCases.map { ($0.rawValue, 0) }),
            missingFields: translation.missing, examples: [])
        var after: Int64?
        while true {
            let page = try await store.recordPage(connector: connector, after: after, limit: 5_000)
            guard let last = page.last else {
                let order = Dictionary(uniqueKeysWithValues: Change.allCases.enumerated().map { ($1, $0) })
                report.examples = report.examples.enumerated()
                    .sorted { (order[$0.element.change] ?? 0, $0.offset) < (order[$1.element.change] ?? 0, $1.offset) }.map(\.element)
                return report
            }
            after = last.key
            for stored in page {
                guard let facts = stored.facts else {
                    report.notRead += 1
                    continue
                }
                let result = change(facts: facts, previous: stored.state, held: held.contains(stored.reference), duplicateLines: stored.duplicateLines)
                report.records += 1
                report.changes[result.change.rawValue, default: 0] += 1
                if result.change != .same, report.examples.count(where: { $0.change == result.change }) < examplesPerChange {
                    report.examples.append(Example(
                        reference: stored.reference, change: result.change, current: result.current, other: result.other, days: result.days,
                        detail: result.detail))
                }
            }
        }
    }

    /// The comparison of each connector's current policy with `other`, in the order given: what
    /// `lethe plan --policy` and the dashboard's what-if page report. Reads the state only.
    public static func reports(
        connectors: [(name: String, policy: Policy)], other: Policy, now: Date, horizon: Period, store: any StateStore
    ) async throws -> [Report] {
        var reports: [Report] = []
        for connector in connectors {
            reports.append(try await PolicyComparison(current: connector.policy, other: other, now: now, horizon: horizon)
                .compare(connector: connector.name, store: store))
        }
        return reports
    }

    /// What a comparison looks at in one timeline.
    private struct Outline {
        var deletion: Date?
        var erasures: [Stamped] = []
        var notices: [Stamped] = []
    }

    private struct Stamped: Equatable, Comparable {
        var name: String
        var date: Date
        static func < (left: Stamped, right: Stamped) -> Bool { (left.date, left.name) < (right.date, right.name) }
    }

    /// The distinct names of events, in order, or `none`.
    private static func names(_ events: [Stamped]) -> String {
        var names: [String] = []
        for event in events where !names.contains(event.name) { names.append(event.name) }
        return names.isEmpty ? "none" : names.joined(separator: ", ")
    }

    /// Whole calendar days from `start` to `end` in `zone`.
    static func days(from start: Date, to end: Date, in zone: TimeZone) -> Int {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        return calendar.dateComponents([.day], from: start, to: end).day ?? 0
    }
}
