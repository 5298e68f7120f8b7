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
    /// The re-confirmation cycle a notice was last sent for, if any (`reconfirm` rules).
    public var reconfirmedFor: Date?

    public init(stage: RuleStage, expiry: Date, noticedFor: Date? = nil, reconfirmedFor: Date? = nil) {
        self.stage = stage
        self.expiry = expiry
        self.noticedFor = noticedFor
        self.reconfirmedFor = reconfirmedFor
    }
}

/// The persisted lifecycle of one record.
public struct LifecycleState: Sendable, Equatable, Codable {
    public var phase: RecordPhase
    public var rules: [String: RuleProgress]
    /// The latest expiry among its rules (nil when quarantined).
    public var finalExpiry: Date?
    /// The consent fields whose changes are reported (`resultForSourceChanges`), as last seen, by field
    /// name. Lethe's own writes of a field update it too (the store patches it with the mirror), so
    /// only changes made elsewhere — in the CRM — differ from it.
    public var consentSeen: [String: Bool] = [:]

    public init(phase: RecordPhase, rules: [String: RuleProgress] = [:], finalExpiry: Date? = nil, consentSeen: [String: Bool] = [:]) {
        self.phase = phase
        self.rules = rules
        self.finalExpiry = finalExpiry
        self.consentSeen = consentSeen
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
            progress[name] = RuleProgress(stage: stage, expiry: expiry, noticedFor: old?.noticedFor, reconfirmedFor: old?.reconfirmedFor)
        }
        let finalExpiry = facts.finalExpiry
        // Consent changes made in the source, for rules that report them: tracked on every path, reported
        // only for an active rule of a record that is neither held nor due.
        var consentSeen: [String: Bool] = [:]
        var sourceChanges: [PlannedOperation] = []
        for name in facts.purposes {
            guard let rule = rule(named: name), let (field, template) = rule.sourceChangeResult else { continue }
            let current = facts.consents[field] ?? false
            // Running before or after the change: a withdrawal that ends the purpose (`endsWithoutConsent`) is reported too.
            let running = (facts.expiries[name] ?? .distantPast) > now || (previous?.rules[name]?.expiry ?? .distantPast) > now
            if let seen = previous?.consentSeen[field], seen != current, running, facts.hasEmail, consentSeen[field] == nil {
                sourceChanges.append(PlannedOperation(kind: .notify, rule: name, cycle: now, fields: [
                    ErasedField(field: Self.noticeTemplateField, value: template),
                    ErasedField(field: Self.noticeDecisionField, value: current ? "consent" : "withdraw"),
                ]))
            }
            consentSeen[field] = current
        }
        if held {
            return Decision(state: LifecycleState(phase: .held, rules: progress, finalExpiry: finalExpiry, consentSeen: consentSeen), operations: [])
        }
        if now >= finalExpiry {
            var operations: [PlannedOperation] = []
            if action == .archiveThenDelete {
                operations.append(PlannedOperation(kind: .archive, rule: "*", cycle: finalExpiry))
            }
            operations.append(PlannedOperation(kind: .delete, rule: "*", cycle: finalExpiry))
            let phase: RecordPhase = previous?.phase == .awaitingApproval ? .awaitingApproval : .expiring
            return Decision(state: LifecycleState(phase: phase, rules: progress, finalExpiry: finalExpiry, consentSeen: consentSeen), operations: operations)
        }
        var operations: [PlannedOperation] = sourceChanges
        for name in facts.purposes {
            guard let rule = rule(named: name), let expiry = facts.expiries[name] else { continue }
            if expiry <= now {
                if let changes = facts.pendingErasures[name] {
                    operations.append(PlannedOperation(kind: .eraseFields, rule: name, cycle: expiry, fields: changes))
                }
                progress[name]?.stage = rule.erase.isEmpty ? .expired : .erased
                continue
            }
            guard facts.hasEmail else { continue }
            if let cycle = facts.reconfirmations[name], let reconfirm = rule.reconfirm,
                rule.asksReconfirmation(cycle: cycle, expiry: expiry, noticedFor: progress[name]?.reconfirmedFor)
            {
                operations.append(PlannedOperation(kind: .notify, rule: name, cycle: cycle, fields: [ErasedField(field: Self.noticeTemplateField, value: reconfirm.template)]))
                progress[name]?.reconfirmedFor = cycle
            }
            guard let notice = rule.notice else { continue }
            if let field = notice.requiresConsentField, facts.consents[field] != true { continue }
            let windowStart = expiry.addingTimeInterval(-notice.lead.approximateSeconds)
            guard now >= windowStart, progress[name]?.noticedFor != expiry else { continue }
            operations.append(PlannedOperation(kind: .notify, rule: name, cycle: expiry))
            progress[name]?.stage = .awaitingResponse
            progress[name]?.noticedFor = expiry
        }
        return Decision(state: LifecycleState(phase: .active, rules: progress, finalExpiry: finalExpiry, consentSeen: consentSeen), operations: operations)
    }
}

extension Policy {
    /// On a notify operation that is not the rule's own extension notice: the template it renders
    /// (a re-confirmation, a result notice). Not a record field: names starting with `_` are Lethe's.
    public static let noticeTemplateField = "_template"

    /// The kind of a notify operation, from its fields: its rule's extension notice (no template), a
    /// re-confirmation (a template), or a result notice (a template and a decision).
    public static func noticeKind(fields: [ErasedField]) -> NoticeKind {
        if fields.contains(where: { $0.field == noticeDecisionField }) { return .result }
        return fields.contains(where: { $0.field == noticeTemplateField }) ? .reconfirm : .extension
    }

    /// On a result notice: the decision it reports (extend, decline, keep, withdraw).
    public static let noticeDecisionField = "_decision"
}

public enum NoticeKind: Sendable, Equatable {
    case `extension`, reconfirm, result
}

extension Period {
    /// Days as exact 24-hour days, months as 30 days and years as 365: only for lead times, where
    /// the policy states days (the kr-pipa notice lead is 30 × 24 hours).
    public var approximateSeconds: TimeInterval {
        Double(days) * 86_400 + Double(months) * 30 * 86_400 + Double(years) * 365 * 86_400
    }
}
