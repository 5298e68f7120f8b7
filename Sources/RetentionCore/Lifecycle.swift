public import Foundation

/// Where a record stands as a whole. Raw values are stored.
public enum RecordPhase: String, Sendable, Codable, CaseIterable {
    /// Kept: at least one rule still requires it.
    case active
    /// Bad or doubtful data (no/invalid/future date, duplicate id): never changed.
    case quarantined
    /// On legal hold: frozen, no operation at all.
    case held
    /// Every rule has expired: its destruction is queued.
    case expiring
    /// Its delete waits for an operator's approval (safety limit).
    case awaitingApproval = "awaiting-approval"
    /// Destroyed: only a pseudonymous tombstone remains.
    case deleted
    /// No longer in the source, without Lethe deleting it.
    case gone
}

/// Where one rule stands for one record.
public enum RuleStage: String, Sendable, Codable {
    case active
    /// A notice was sent; the customer has not answered.
    case awaitingResponse = "awaiting-response"
    /// Retention was extended past the cycle that was noticed.
    case extended
    /// The rule expired and its fields were (or are being) erased.
    case erased
    /// The rule expired; other rules keep the record.
    case expired
}

public struct RuleProgress: Sendable, Equatable, Codable {
    public var stage: RuleStage
    public var expiry: Date
    /// The expiry a notice was sent for, if any.
    public var noticedFor: Date?

    public init(stage: RuleStage, expiry: Date, noticedFor: Date? = nil) {
        self.stage = stage
        self.expiry = expiry
        self.noticedFor = noticedFor
    }
}

/// The persisted lifecycle of one record.
public struct LifecycleState: Sendable, Equatable, Codable {
    public var phase: RecordPhase
    public var rules: [String: RuleProgress]
    /// The latest expiry among its rules (nil when quarantined).
    public var finalExpiry: Date?

    public init(phase: RecordPhase, rules: [String: RuleProgress] = [:], finalExpiry: Date? = nil) {
        self.phase = phase
        self.rules = rules
        self.finalExpiry = finalExpiry
    }
}

/// The outcome of evaluating one record.
public struct Decision: Sendable, Equatable {
    public var state: LifecycleState
    public var operations: [PlannedOperation]
    /// For quarantined records, why.
    public var quarantine: QuarantineReason?
}

extension Policy {
    /// The lifecycle as a pure function: (previous state, record, now, hold) → (new state, operations).
    ///
    /// Guarantees (property-tested):
    /// - a `delete` is produced only when `now` ≥ the expiry of every matching rule;
    /// - quarantined and held records produce no operation at all;
    /// - at most one notice per rule and expiry: a previous state that noticed this expiry suppresses it;
    /// - a notice goes out only while the expiry lies in (now, now + lead].
    public func evaluate(_ interpretation: Interpretation, previous: LifecycleState?, held: Bool, now: Date) -> Decision {
        let facts: RecordFacts
        switch interpretation {
        case .quarantined(let reason):
            return Decision(state: LifecycleState(phase: .quarantined), operations: [], quarantine: reason)
        case .valid(let valid):
            facts = valid
        }
        var progress: [String: RuleProgress] = [:]
        for (name, expiry) in facts.expiries {
            let old = previous?.rules[name]
            var stage: RuleStage = expiry <= now ? .expired : .active
            if let noticed = old?.noticedFor, stage == .active {
                stage = expiry > noticed ? .extended : .awaitingResponse
            }
            progress[name] = RuleProgress(stage: stage, expiry: expiry, noticedFor: old?.noticedFor)
        }
        let finalExpiry = facts.finalExpiry
        if held {
            return Decision(state: LifecycleState(phase: .held, rules: progress, finalExpiry: finalExpiry), operations: [])
        }
        if now >= finalExpiry {
            var operations: [PlannedOperation] = []
            if action == .archiveThenDelete {
                operations.append(PlannedOperation(kind: .archive, rule: "*", cycle: finalExpiry))
            }
            operations.append(PlannedOperation(kind: .delete, rule: "*", cycle: finalExpiry))
            let phase: RecordPhase = previous?.phase == .awaitingApproval ? .awaitingApproval : .expiring
            return Decision(state: LifecycleState(phase: phase, rules: progress, finalExpiry: finalExpiry), operations: operations)
        }
        var operations: [PlannedOperation] = []
        for name in facts.purposes {
            guard let rule = rule(named: name), let expiry = facts.expiries[name] else { continue }
            if expiry <= now {
                if let changes = facts.pendingErasures[name] {
                    operations.append(PlannedOperation(kind: .eraseFields, rule: name, cycle: expiry, fields: changes))
                }
                progress[name]?.stage = rule.erase.isEmpty ? .expired : .erased
                continue
            }
            guard let notice = rule.notice, facts.hasEmail else { continue }
            if let field = notice.requiresConsentField, facts.consents[field] != true { continue }
            let windowStart = expiry.addingTimeInterval(-notice.lead.approximateSeconds)
            guard now >= windowStart, progress[name]?.noticedFor != expiry else { continue }
            operations.append(PlannedOperation(kind: .notify, rule: name, cycle: expiry))
            progress[name] = RuleProgress(stage: .awaitingResponse, expiry: expiry, noticedFor: expiry)
        }
        return Decision(state: LifecycleState(phase: .active, rules: progress, finalExpiry: finalExpiry), operations: operations)
    }
}

extension Period {
    /// Days as exact 24-hour days, months as 30 days and years as 365: only for lead times, where
    /// the policy states days (the kr-pipa notice lead is 30 × 24 hours).
    public var approximateSeconds: TimeInterval {
        Double(days) * 86_400 + Double(months) * 30 * 86_400 + Double(years) * 365 * 86_400
    }
}
