public import Foundation

/// The lifecycle's decision for a record and the instant it may next change: what a sync keeps.
public struct Judgement: Sendable, Equatable {
    public var decision: Decision
    /// `Policy.nextChange` for the record at the decision's time.
    public var nextChange: Date?

    public init(decision: Decision, nextChange: Date?) {
        self.decision = decision
        self.nextChange = nextChange
    }
}

extension Policy {
    /// `evaluate(interpret(facts, now), previous, held, now)` with `nextChange`, in one call.
    ///
    /// A record seen for the first time whose decision is plain — every rule still running with no
    /// notice window open, or every rule expired — is decided from the compiled rules alone; any other
    /// record takes the general path. Both give the same answer (property-tested).
    public func judge(_ facts: SourceFacts, layout: PolicyLayout, previous: LifecycleState?, held: Bool, now: Date) -> Judgement {
        if previous == nil, !held, let plain = plainJudgement(facts, layout: layout, now: now) { return plain }
        let interpretation = interpret(facts, layout: layout, now: now)
        return Judgement(
            decision: evaluate(interpretation, previous: previous, held: held, now: now),
            nextChange: nextChange(facts, interpretation: interpretation, layout: layout, held: held, now: now))
    }

    /// The decision for a new, valid, not held record when it is plain; nil otherwise.
    func plainJudgement(_ facts: SourceFacts, layout: PolicyLayout, now: Date) -> Judgement? {
        guard facts.quarantine == nil, let createdAt = facts.createdAt, createdAt <= now else { return nil }
        var expiries: [(rule: PolicyLayout.CompiledRule, expiry: Date)] = []
        expiries.reserveCapacity(facts.purposes.nonzeroBitCount)
        var finalExpiry = Date.distantPast
        var bits = facts.purposes
        while bits != 0 {
            let index = bits.trailingZeroBitCount
            bits &= bits - 1
            guard index < layout.compiled.count else { return nil }
            let rule = layout.compiled[index]
            // Re-confirmations and reported consent changes need the general path.
            guard !rule.hasReconfirm, !rule.reportsSourceChanges else { return nil }
            let expiry = expiry(of: rule, facts: facts, createdAt: createdAt, offsets: layout.offsets)
            expiries.append((rule, expiry))
            finalExpiry = max(finalExpiry, expiry)
        }
        guard !expiries.isEmpty else { return nil }
        var progress: [String: RuleProgress] = Dictionary(minimumCapacity: expiries.count)
        if now >= finalExpiry {
            // Every rule expired: the record is destroyed (its expiries and notice windows are past).
            for (rule, expiry) in expiries { progress[rule.name] = RuleProgress(stage: .expired, expiry: expiry) }
            var operations: [PlannedOperation] = []
            if action == .archiveThenDelete { operations.append(PlannedOperation(kind: .archive, rule: "*", cycle: finalExpiry)) }
            operations.append(PlannedOperation(kind: .delete, rule: "*", cycle: finalExpiry))
            return Judgement(
                decision: Decision(state: LifecycleState(phase: .expiring, rules: progress, finalExpiry: finalExpiry), operations: operations),
                nextChange: nil)
        }
        var next: Date?
        func consider(_ date: Date) {
            if date > now, next.map({ date < $0 }) ?? true { next = date }
        }
        for (rule, expiry) in expiries {
            // An expired rule (an erasure) or an open notice window is not plain.
            guard expiry > now else { return nil }
            consider(expiry)
            if let lead = rule.noticeLead {
                let windowStart = expiry.addingTimeInterval(-lead)
                consider(windowStart)
                let consented = rule.noticeConsent.map { $0 >= 0 && facts.consents & (1 << UInt64($0)) != 0 } ?? true
                if facts.hasEmail, consented, now >= windowStart { return nil }
            }
            progress[rule.name] = RuleProgress(stage: .active, expiry: expiry)
        }
        return Judgement(
            decision: Decision(state: LifecycleState(phase: .active, rules: progress, finalExpiry: finalExpiry), operations: []),
            nextChange: next)
    }
}
