public import Foundation
public import RetentionCore
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
    public func applyConsent(_ token: ConsentToken, connector: ConnectorRuntime) async throws -> ConsentOutcome {
        try await locked(connector.name) { try await consent(token, connector: connector) }
    }

    private func consent(_ token: ConsentToken, connector: ConnectorRuntime) async throws -> ConsentOutcome {
        let now = clock.now()
        let policy = connector.policy
        if let previous = try await store.consentDecision(connector: connector.name, reference: token.reference, rule: token.rule, cycle: token.cycle),
            let action = ConsentAction(rawValue: previous)
        {
            return .alreadyDecided(action)
        }
        guard let stored = try await store.record(connector: connector.name, reference: token.reference), let recordID = stored.recordID,
            let state = stored.state
        else { return .recordGone }
        guard let rule = policy.rule(named: token.rule) else { return .notExtendable }
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
            guard let notice = rule.notice else { return .notExtendable }
            if notice.declineImmediately, let consentField = notice.requiresConsentField {
                // Declining withdraws the consent: written to the source, then the record is re-evaluated.
                operations.append(operation(.eraseFields, [ErasedField(field: consentField, value: "N")]))
                withdrawNow = true
                outcome = .withdrawn
            } else {
                outcome = .declined(expiry: token.cycle)
            }
        case .extend:
            guard let notice = rule.notice, let basisField = rule.extensionField(createdAt: policy.fields.createdAt) else { return .notExtendable }
            var fields = [ErasedField(field: basisField, value: Self.isoDate(now, zone: policy.zone))]
            if let consentField = notice.requiresConsentField { fields.append(ErasedField(field: consentField, value: "Y")) }
            operations.append(operation(.extend, fields))
            outcome = .extended(until: notice.extensionPeriod.added(to: now, in: policy.zone))
        case .keep:
            // The consent stands. With `confirmedAt`, the date is written back and the cycles restart from it.
            guard let reconfirm = rule.reconfirm else { return .notExtendable }
            resultTemplate = reconfirm.resultTemplate
            if let field = reconfirm.confirmedAtField {
                operations.append(operation(.extend, [ErasedField(field: field, value: Self.isoDate(now, zone: policy.zone)),
                                                      ErasedField(field: reconfirm.consentField, value: "Y")]))
                outcome = .kept(next: reconfirm.next(after: now, zone: policy.zone))
            } else {
                outcome = .kept(next: reconfirm.next(after: token.cycle, zone: policy.zone))
            }
        case .withdraw:
            guard let reconfirm = rule.reconfirm else { return .notExtendable }
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
