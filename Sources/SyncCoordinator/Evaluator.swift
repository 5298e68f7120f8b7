import Foundation
import RetentionCore
import RetentionStore

/// The lifecycle decision for one record as the outbox and the state take it — pure, so a batch is
/// evaluated on several cores at once: non-destructive operations pending at once, deletes and
/// archive copies staged until the safety check (the record keeps its phase until then), and the
/// record's next change.
struct Evaluator: Sendable {
    let policy: Policy
    let layout: PolicyLayout
    let now: Date
    let connector: String
    let held: Set<String>
    let operationIDs: OperationIdentifier
    /// False: operations get no id (a dry run where nothing was ever queued counts them by kind alone).
    var identifiesOperations = true

    struct Outcome: Sendable {
        var state: LifecycleState
        var nextDue: Date?
        var reason: QuarantineReason?
        var operations: [OutboxOperation]
        var audit: [AuditDraft]
        var held: Bool

        var tally: Tally { Tally(reason: reason, held: held, audit: audit) }
    }

    /// What an outcome adds to a sync's summary and audit.
    struct Tally: Sendable {
        var reason: QuarantineReason?
        var held: Bool
        var audit: [AuditDraft]
    }

    func outcome(
        key: Int64, reference: String, recordID: String, facts: SourceFacts, previous: LifecycleState?, duplicateLines: [Int] = []
    ) -> Outcome {
        let isHeld = !held.isEmpty && held.contains(reference)
        let judgement: Judgement =
            duplicateLines.isEmpty
            ? policy.judge(facts, layout: layout, previous: previous, held: isHeld, now: now)
            : Judgement(decision: policy.evaluate(.quarantined(.duplicateID(lines: duplicateLines)), previous: previous, held: isHeld, now: now), nextChange: nil)
        let decision = judgement.decision
        let destructive = decision.operations.contains { $0.kind == .delete || $0.kind == .archive }
        var state = decision.state
        if destructive { state.phase = previous?.phase ?? .active }
        let operations = decision.operations.map { planned -> OutboxOperation in
            let isDestructive = planned.kind == .delete || planned.kind == .archive
            var operation = OutboxOperation(
                id: identifiesOperations ? operationIDs.make(connector: connector, recordID: recordID, operation: planned) : "",
                connector: connector, reference: reference, recordID: recordID, kind: planned.kind, rule: planned.rule,
                cycle: planned.cycle, fields: planned.fields, status: isDestructive ? .staged : .pending, createdAt: now)
            operation.recordKey = key
            return operation
        }
        var audit: [AuditDraft] = []
        if !destructive, decision.state.phase != previous?.phase, let event = SyncPass.auditEvent(for: decision.state.phase) {
            audit.append(AuditDraft(at: now, event: event, connector: connector, reference: reference,
                                    detail: decision.quarantine.map { ["reason": $0.code] } ?? [:]))
        }
        return Outcome(
            state: state, nextDue: judgement.nextChange, reason: decision.quarantine, operations: operations, audit: audit, held: isHeld && decision.quarantine == nil)
    }
}
