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
    /// Declined under `decline: immediately`: the consent was withdrawn and the data erased or deleted now.
    case withdrawn
    /// This record, rule and cycle already have a decision (a reused link): nothing changed.
    case alreadyDecided(ConsentAction)
    /// The record is no longer there (deleted, or gone from the source).
    case recordGone
    /// The rule has no extension (no notice, or no consent date field in its basis).
    case notExtendable
}

extension SyncCoordinator {
    /// Applies a verified consent link: records one decision per record, rule and cycle and, for an
    /// extension, queues an `extend` operation that writes the consent date (the rule's basis field
    /// after the creation date) and consent "Y" back to the source, in the same transaction. Then the
    /// connector's pending operations run.
    public func applyConsent(_ token: ConsentToken, connector: ConnectorRuntime) async throws -> ConsentOutcome {
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
        var change: RecordChange?
        let outcome: ConsentOutcome
        var withdrawNow = false
        switch token.action {
        case .decline:
            outcome = .declined(expiry: token.cycle)
            if let notice = policy.rule(named: token.rule)?.notice, notice.declineImmediately, let consentField = notice.requiresConsentField {
                // Declining withdraws the consent: written to the source, then the record is re-evaluated.
                let fields = [ErasedField(field: consentField, value: "N")]
                let planned = PlannedOperation(kind: .eraseFields, rule: token.rule, cycle: token.cycle, fields: fields)
                let operation = OutboxOperation(
                    id: OperationIdentifier.make(connector: connector.name, recordID: recordID, operation: planned),
                    connector: connector.name, reference: token.reference, recordID: recordID, kind: .eraseFields, rule: token.rule,
                    cycle: token.cycle, fields: fields, createdAt: now)
                change = RecordChange(connector: connector.name, reference: token.reference, state: state, operations: [operation])
                withdrawNow = true
            }
        case .extend:
            guard let rule = policy.rule(named: token.rule), let notice = rule.notice,
                let basisField = rule.basis.first(where: { $0 != policy.fields.createdAt })
            else { return .notExtendable }
            var fields = [ErasedField(field: basisField, value: Self.isoDate(now, zone: policy.zone))]
            if let consentField = notice.requiresConsentField { fields.append(ErasedField(field: consentField, value: "Y")) }
            let planned = PlannedOperation(kind: .extend, rule: token.rule, cycle: token.cycle, fields: fields)
            let operation = OutboxOperation(
                id: OperationIdentifier.make(connector: connector.name, recordID: recordID, operation: planned),
                connector: connector.name, reference: token.reference, recordID: recordID, kind: .extend, rule: token.rule,
                cycle: token.cycle, fields: fields, createdAt: now)
            change = RecordChange(connector: connector.name, reference: token.reference, state: state, operations: [operation])
            outcome = .extended(until: notice.extensionPeriod.added(to: now, in: policy.zone))
        }
        // The result notice (opt-in): a notify operation carrying its template and the decision.
        if let resultTemplate = policy.rule(named: token.rule)?.notice?.resultTemplate {
            let fields = [ErasedField(field: OutboxExecutor.templateField, value: resultTemplate),
                          ErasedField(field: OutboxExecutor.decisionField, value: token.action.rawValue)]
            let planned = PlannedOperation(kind: .notify, rule: token.rule, cycle: now, fields: fields)
            let notice = OutboxOperation(
                id: OperationIdentifier.make(connector: connector.name, recordID: recordID, operation: planned),
                connector: connector.name, reference: token.reference, recordID: recordID, kind: .notify, rule: token.rule,
                cycle: now, fields: fields, createdAt: now)
            var combined = change ?? RecordChange(connector: connector.name, reference: token.reference, state: state, operations: [])
            combined.operations.append(notice)
            change = combined
        }
        let recorded = try await store.recordConsentDecision(
            connector: connector.name, reference: token.reference, rule: token.rule, cycle: token.cycle, action: token.action.rawValue,
            at: now, change: change)
        guard recorded else { return .alreadyDecided(token.action) }
        var summary = SyncSummary(connector: connector.name, dryRun: false, asOf: now)
        try await OutboxExecutor(store: store, sinks: sinks, clock: clock, log: log, retry: retry).drain(connector, summary: &summary)
        if withdrawNow {
            _ = try await syncRecords(connector, changed: [recordID], deleted: [])
            return .withdrawn
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
