public import Foundation
import RetentionCore
import RetentionStore

/// What a confirmed consent link did.
public enum ConsentOutcome: Sendable, Equatable {
    /// Extended: the consent date (and consent yes) is written back to the source; the rule's clock
    /// restarts from it.
    case extended(until: Date)
    /// Declined: nothing is kept longer; the data goes at its expiry.
    case declined(expiry: Date)
    /// Declined under `decline: immediately`, or consent withdrawn at a re-confirmation under a rule
    /// with `endsWithoutConsent`: the consent was withdrawn and the data erased or deleted now.
    case withdrawn
    /// Re-confirmation kept: the consent stands; the next re-confirmation falls on `next`.
    case kept(next: Date)
    /// Consent withdrawn at a re-confirmation: no more marketing; the data kept for it goes at `expiry`.
    case consentWithdrawn(expiry: Date)
    /// This record, rule and cycle already have a decision (a reused link): nothing changed.
    case alreadyDecided(ConsentAction)
    /// The record is no longer there (deleted, or gone from the source).
    case recordGone
    /// The rule has no extension (no notice, or no consent date field in its basis), or no
    /// re-confirmation for a keep / withdraw link.
    case notExtendable
}

extension SyncCoordinator {
    /// Applies a verified consent link: records one decision per record, rule and cycle, with the
    /// operations it implies in the same transaction, then runs the connector's pending operations.
    /// - extend: writes the consent date (the rule's basis field after the creation date) and consent
    ///   "Y" back to the source;
    /// - decline: nothing now (the data goes at expiry), or, under `decline: immediately`, consent "N";
    /// - keep (re-confirmation): the decision only, or with `confirmedAt` that date and consent "Y";
    /// - withdraw (re-confirmation): consent "N", then the record is re-evaluated at once.
    /// When another process runs the connector, the decision is recorded for later instead
    /// (`recordConsentForLater`): a running sync never makes a consent fail or wait.
    public func applyConsent(_ token: ConsentToken, connector: ConnectorRuntime) async throws -> ConsentOutcome {
        if let decided = try await decided(token, connector: connector) { return .alreadyDecided(decided) }
        do {
            return try await locked(connector.name, wait: .zero) { try await consent(token, connector: connector) }
        } catch is RunInProgress {
            return try await recordConsentForLater(token, connector: connector)
        }
    }

    /// Applies the decisions recorded while the connector was busy, if it is free now (nil if not).
    public func applyPendingConsents(_ connector: ConnectorRuntime) async throws -> SyncSummary? {
        guard !(try await store.pendingConsentDecisions(connector: connector.name)).isEmpty else { return nil }
        do {
            return try await locked(connector.name, wait: .zero) {
                var summary = SyncSummary(connector: connector.name, dryRun: false, asOf: clock.now())
                try await applyPendingConsents(connector, summary: &summary)
                return summary
            }
        } catch is RunInProgress {
            return nil
        }
    }

    /// A consent link confirmed while the connector is busy (a sync holds it): the decision is
    /// recorded at once and its operations are queued when the connector is free
    /// (`applyPendingConsents`, at the start of every sync and by the daemon). The answer is the
    /// same as if it had been applied now.
    public func recordConsentForLater(_ token: ConsentToken, connector: ConnectorRuntime) async throws -> ConsentOutcome {
        if let decided = try await decided(token, connector: connector) { return .alreadyDecided(decided) }
        let now = clock.now()
        switch try await plan(token, connector: connector, now: now) {
        case .final(let outcome):
            return outcome
        case .apply(let outcome, _, _, _):
            let recorded = try await store.recordPendingConsentDecision(
                connector: connector.name, reference: token.reference, rule: token.rule, cycle: token.cycle, action: token.action.rawValue, at: now)
            guard recorded else { return .alreadyDecided(token.action) }
            log(.info, "consent recorded, applied when the connector is free", ["connector": connector.name, "reference": token.reference, "action": token.action.rawValue])
            return outcome
        }
    }

    /// Applies the decisions recorded while the connector was busy, as they would have been applied
    /// then (their consent date is the decision's). Call it holding the connector.
    func applyPendingConsents(_ connector: ConnectorRuntime, summary: inout SyncSummary) async throws {
        let pending = try await store.pendingConsentDecisions(connector: connector.name)
        guard !pending.isEmpty else { return }
        var withdrawn: [String] = []
        for decision in pending {
            guard let action = ConsentAction(rawValue: decision.action) else { continue }
            let token = ConsentToken(
                connector: decision.connector, reference: decision.reference, rule: decision.rule, cycle: decision.cycle, action: action,
                validUntil: .distantFuture)
            var change: RecordChange?
            if case .apply(_, let operations, let withdrawNow, let stored) = try await plan(token, connector: connector, now: decision.decidedAt),
                !operations.isEmpty, let recordID = stored.recordID, let state = stored.state
            {
                change = RecordChange(
                    connector: connector.name, reference: token.reference, key: stored.key, state: state, nextDue: stored.nextDue, operations: operations)
                if withdrawNow { withdrawn.append(recordID) }
            }
            _ = try await store.applyConsentDecision(decision, change: change, at: clock.now())
        }
        log(.info, "consent decisions applied", ["connector": connector.name, "decisions": String(pending.count)])
        try await OutboxExecutor(store: store, sinks: sinks, clock: clock, log: log, retry: retry, chunks: chunks).drain(connector, summary: &summary)
        if !withdrawn.isEmpty {
            _ = try await runRecords(connector, changed: withdrawn, deleted: [])
        }
    }

    /// The decision already made for this link's record, rule and cycle.
    private func decided(_ token: ConsentToken, connector: ConnectorRuntime) async throws -> ConsentAction? {
        try await store.consentDecision(connector: connector.name, reference: token.reference, rule: token.rule, cycle: token.cycle)
            .flatMap(ConsentAction.init(rawValue:))
    }

    /// What a decision does: an answer alone, or operations to queue (and whether the record is
    /// re-evaluated at once).
    private enum ConsentPlan {
        case final(ConsentOutcome)
        case apply(ConsentOutcome, operations: [OutboxOperation], withdrawNow: Bool, record: StoredRecord)
    }

    private func plan(_ token: ConsentToken, connector: ConnectorRuntime, now: Date) async throws -> ConsentPlan {
        let policy = connector.policy
        guard let stored = try await store.record(connector: connector.name, reference: token.reference), let recordID = stored.recordID,
            let state = stored.state
        else { return .final(.recordGone) }
        guard let rule = policy.rule(named: token.rule) else { return .final(.notExtendable) }
        /// One operation for this decision, with the same deterministic id on every attempt.
        func operation(_ kind: OperationKind, _ fields: [ErasedField]) -> OutboxOperation {
            let planned = PlannedOperation(kind: kind, rule: token.rule, cycle: token.cycle, fields: fields)
            return OutboxOperation(
                id: store.operationIDs.make(connector: connector.name, recordID: recordID, operation: planned),
                connector: connector.name, reference: token.reference, recordID: recordID, kind: kind, rule: token.rule,
                cycle: token.cycle, fields: fields, createdAt: now)
        }
        var operations: [OutboxOperation] = []
        let outcome: ConsentOutcome
        var withdrawNow = false
        var resultTemplate = rule.notice?.resultTemplate
        switch token.action {
        case .decline:
            guard let notice = rule.notice else { return .final(.notExtendable) }
            if notice.declineImmediately, let consentField = notice.requiresConsentField {
                // Declining withdraws the consent: written to the source, then the record is re-evaluated.
                operations.append(operation(.eraseFields, [ErasedField(field: consentField, value: "N")]))
                withdrawNow = true
                outcome = .withdrawn
            } else {
                outcome = .declined(expiry: token.cycle)
            }
        case .extend:
            guard let notice = rule.notice, let basisField = rule.extensionField(createdAt: policy.fields.createdAt) else { return .final(.notExtendable) }
            var fields = [ErasedField(field: basisField, value: Self.isoDate(now, zone: policy.zone))]
            if let consentField = notice.requiresConsentField { fields.append(ErasedField(field: consentField, value: "Y")) }
            operations.append(operation(.extend, fields))
            outcome = .extended(until: notice.extensionPeriod.added(to: now, in: policy.zone))
        case .keep:
            // The consent stands. With `confirmedAt`, the date is written back and the cycles restart from it.
            guard let reconfirm = rule.reconfirm else { return .final(.notExtendable) }
            resultTemplate = reconfirm.resultTemplate
            if let field = reconfirm.confirmedAtField {
                operations.append(operation(.extend, [ErasedField(field: field, value: Self.isoDate(now, zone: policy.zone)),
                                                      ErasedField(field: reconfirm.consentField, value: "Y")]))
                outcome = .kept(next: reconfirm.next(after: now, zone: policy.zone))
            } else {
                outcome = .kept(next: reconfirm.next(after: token.cycle, zone: policy.zone))
            }
        case .withdraw:
            guard let reconfirm = rule.reconfirm else { return .final(.notExtendable) }
            resultTemplate = reconfirm.resultTemplate
            operations.append(operation(.eraseFields, [ErasedField(field: reconfirm.consentField, value: "N")]))
            withdrawNow = true
            outcome = rule.endsWithoutConsent == reconfirm.consentField ? .withdrawn : .consentWithdrawn(expiry: state.rules[token.rule]?.expiry ?? token.cycle)
        }
        // The result notice (opt-in): a notify operation carrying its template and the decision.
        if let resultTemplate {
            let fields = [ErasedField(field: Policy.noticeTemplateField, value: resultTemplate),
                          ErasedField(field: Policy.noticeDecisionField, value: token.action.rawValue)]
            let planned = PlannedOperation(kind: .notify, rule: token.rule, cycle: now, fields: fields)
            operations.append(OutboxOperation(
                id: store.operationIDs.make(connector: connector.name, recordID: recordID, operation: planned),
                connector: connector.name, reference: token.reference, recordID: recordID, kind: .notify, rule: token.rule,
                cycle: now, fields: fields, createdAt: now))
        }
        return .apply(outcome, operations: operations, withdrawNow: withdrawNow, record: stored)
    }

    private func consent(_ token: ConsentToken, connector: ConnectorRuntime) async throws -> ConsentOutcome {
        let now = clock.now()
        if let decided = try await decided(token, connector: connector) { return .alreadyDecided(decided) }
        let outcome: ConsentOutcome, operations: [OutboxOperation], withdrawNow: Bool, stored: StoredRecord
        switch try await plan(token, connector: connector, now: now) {
        case .final(let answer): return answer
        case .apply(let answer, let planned, let withdraw, let record): (outcome, operations, withdrawNow, stored) = (answer, planned, withdraw, record)
        }
        guard let recordID = stored.recordID, let state = stored.state else { return .recordGone }
        let change = operations.isEmpty
            ? nil : RecordChange(connector: connector.name, reference: token.reference, key: stored.key, state: state, nextDue: stored.nextDue, operations: operations)
        let recorded = try await store.recordConsentDecision(
            connector: connector.name, reference: token.reference, rule: token.rule, cycle: token.cycle, action: token.action.rawValue,
            at: now, change: change)
        guard recorded else { return .alreadyDecided(token.action) }
        var summary = SyncSummary(connector: connector.name, dryRun: false, asOf: now)
        try await OutboxExecutor(store: store, sinks: sinks, clock: clock, log: log, retry: retry, chunks: chunks).drain(connector, summary: &summary)
        if withdrawNow {
            _ = try await runRecords(connector, changed: [recordID], deleted: [])
        }
        log(.info, "consent recorded", ["connector": connector.name, "reference": token.reference, "action": token.action.rawValue])
        return outcome
    }

    /// `2026-12-01T10:30:00+09:00`: the instant in the policy's zone.
    static func isoDate(_ date: Date, zone: TimeZone) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = zone
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }
}
