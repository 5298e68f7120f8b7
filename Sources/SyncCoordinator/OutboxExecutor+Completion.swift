import Foundation
import RetentionCore
import RetentionStore

extension OutboxExecutor {
    /// Re-reads the records of due deletes from the source and re-evaluates them; appends the deletes
    /// that are still due to `confirmed`. A record that vanished counts as deleted; one that changed is
    /// left alone. `deletes` is consumed (left empty), so a large page is not held twice.
    /// `blocked` counts the deletes left pending because their archive copy is not done yet.
    func recheckDeletes(
        _ deletes: inout [OutboxOperation], into confirmed: inout [OutboxOperation], connector: ConnectorRuntime,
        operators: [String: String], blocked: inout Int, summary: inout SyncSummary
    ) async throws {
        defer { deletes = [] }
        guard !deletes.isEmpty else { return }
        if connector.policy.action == .archiveThenDelete {
            var ready: [OutboxOperation] = []
            var waiting: [OutboxOperation] = []
            for operation in deletes {
                if try await archiveDone(for: operation) {
                    ready.append(operation)
                } else {
                    waiting.append(operation)
                }
            }
            deletes = ready
            for operation in waiting {
                if try await archiveDead(for: operation) {
                    try await deadLetter(operation, error: "its archive copy failed", summary: &summary)
                } else {
                    blocked += 1
                }
            }
        }
        guard !deletes.isEmpty else { return }
        let held = try await store.heldReferences(connector: connector.name)
        // Re-read a bounded number of records at a time: the fresh copies are dropped after each chunk.
        for start in stride(from: 0, to: deletes.count, by: chunks.recheck) {
            let chunk = Array(deletes[start..<min(start + chunks.recheck, deletes.count)])
            confirmed += try await recheck(chunk, connector: connector, held: held, operators: operators, summary: &summary)
        }
    }

    private func recheck(
        _ ready: [OutboxOperation], connector: ConnectorRuntime, held: Set<String>, operators: [String: String], summary: inout SyncSummary
    ) async throws -> [OutboxOperation] {
        let layout = PolicyLayout(connector.policy)
        let fresh: [SourceRecord]
        do {
            // Only the fields the policy reads: the re-check holds a few of each record, not whole rows.
            fresh = try await connector.source.read(ids: ready.compactMap(\.recordID), fields: layout.fields)
        } catch {
            for operation in ready { try await fail(operation, error: error, summary: &summary) }
            return []
        }
        let rows = Dictionary(grouping: fresh, by: \.id)
        let records = try await store.records(connector: connector.name, references: ready.map(\.reference))
        let now = clock.now()
        var confirmed: [OutboxOperation] = []
        var vanished: [OperationCompletion] = []
        for operation in ready {
            let current = rows[operation.recordID ?? ""] ?? []
            let stored = records[operation.reference]
            let previous = stored?.state
            guard let record = current.first else {
                vanished.append(
                    finish(operation, policy: connector.policy, record: stored, receipt: "already gone at re-check", operators: operators, summary: &summary)
                )
                continue
            }
            guard current.count == 1 else {
                try await cancel(operation, reason: "re-check: the id occurs more than once", summary: &summary)
                continue
            }
            let decision = connector.policy.evaluate(
                connector.policy.interpret(connector.policy.facts(of: record, layout: layout), layout: layout, now: now), previous: previous,
                held: held.contains(operation.reference), now: now
            )
            if decision.operations.contains(where: { $0.kind == .delete && $0.cycle == operation.cycle }) {
                confirmed.append(operation)
            } else {
                try await cancel(operation, reason: "re-check: no longer due", summary: &summary)
            }
        }
        try await store.complete(vanished)
        return confirmed
    }

    /// The archive copy that protects a delete: same record, rule, cycle and round.
    private func archiveOperation(for delete: OutboxOperation) async throws -> OutboxOperation? {
        guard let recordID = delete.recordID else { return nil }
        let round = store.operationIDs.round(
            of: delete.id, connector: delete.connector, recordID: recordID,
            operation: PlannedOperation(kind: .delete, rule: delete.rule, cycle: delete.cycle)) ?? 0
        let id = store.operationIDs.make(
            connector: delete.connector, recordID: recordID,
            operation: PlannedOperation(kind: .archive, rule: delete.rule, cycle: delete.cycle), round: round
        )
        return try await store.operation(id: id)
    }

    private func archiveDone(for delete: OutboxOperation) async throws -> Bool {
        try await archiveOperation(for: delete)?.status == .done
    }

    private func archiveDead(for delete: OutboxOperation) async throws -> Bool {
        let status = try await archiveOperation(for: delete)?.status
        return status == nil || status == .dead || status == .cancelled
    }

    /// The completion of a write operation, with its destruction-register details.
    func finish(
        _ operation: OutboxOperation, policy: Policy, record: StoredRecord?, receipt: String, deletion: DeletionReceipt? = nil,
        operators: [String: String], summary: inout SyncSummary
    ) -> OperationCompletion {
        let state = record?.state
        // What was written changes the record's facts as a re-read would (nil: read it again).
        let writes = operation.kind == .eraseFields || operation.kind == .extend
        let written = writes ? record?.facts.map { policy.facts($0, applying: operation.fields, layout: PolicyLayout(policy)) } : nil
        let rules = operation.kind == .delete ? (state?.rules.keys.sorted() ?? []) : [operation.rule]
        let basis = rules.compactMap { policy.rule(named: $0)?.legalBasis }.filter { !$0.isEmpty }
        var detail = [
            "kind": operation.kind.rawValue,
            "rules": rules.joined(separator: ";"),
            "legalBasis": basis.joined(separator: " / "),
            "expiry": AuditTimestamp.iso8601(operation.cycle),
            "operator": operation.batch.flatMap { operators[$0] } ?? "lethe (automatic)",
            "receipt": receipt,
            "policy": policy.name,
        ]
        if let batch = operation.batch { detail["batch"] = batch }
        let effect: OperationCompletion.RecordEffect
        switch operation.kind {
        case .delete:
            detail["fields"] = "*"
            detail["method"] = "delete-record"
            if let deletion {
                detail["deleteMode"] = deletion.mode.rawValue
                if let until = deletion.restorableUntil { detail["restorableUntil"] = AuditTimestamp.iso8601(until) }
                if let method = deletion.method { detail["deleteMethod"] = method }
            }
            effect = .tombstone(phase: .deleted)
            summary.deleted += 1
        case .eraseFields:
            detail["fields"] = operation.fields.map(\.field).joined(separator: ";")
            detail["method"] = "erase-fields"
            effect = .fieldsChanged(operation.fields, facts: written)
            summary.fieldsErased += 1
        case .extend:
            detail["fields"] = operation.fields.map(\.field).joined(separator: ";")
            detail["method"] = "extend"
            effect = .fieldsChanged(operation.fields, facts: written)
            summary.extended += 1
        case .notify, .archive:
            effect = .none
        }
        return doneCompletion(operation, receipt: receipt, effect: effect, detail: detail)
    }

    func doneCompletion(_ operation: OutboxOperation, receipt: String, effect: OperationCompletion.RecordEffect, detail: [String: String]) -> OperationCompletion {
        OperationCompletion(
            operationID: operation.id, status: .done, attempts: operation.attempts + 1, receipt: receipt, effect: effect,
            audit: [AuditDraft(at: clock.now(), event: "operation.done", connector: operation.connector,
                               reference: operation.reference, rule: operation.rule, operation: operation.id, detail: detail)]
        )
    }

    func complete(_ operation: OutboxOperation, receipt: String, effect: OperationCompletion.RecordEffect, detail: [String: String]) async throws {
        try await store.complete(doneCompletion(operation, receipt: receipt, effect: effect, detail: detail))
    }

    func cancel(_ operation: OutboxOperation, reason: String, summary: inout SyncSummary) async throws {
        try await store.complete(
            OperationCompletion(
                operationID: operation.id, status: .cancelled, attempts: operation.attempts, error: reason,
                audit: [AuditDraft(at: clock.now(), event: "operation.cancelled", connector: operation.connector,
                                   reference: operation.reference, rule: operation.rule, operation: operation.id,
                                   detail: ["kind": operation.kind.rawValue, "reason": reason])]
            )
        )
        summary.cancelled += 1
    }

    /// A failure: transient ones are retried with backoff, permanent ones (or too many attempts) go dead.
    func fail(_ operation: OutboxOperation, error: any Error, summary: inout SyncSummary) async throws {
        // Cancellation (shutdown) is not a failure of the operation: it stays pending for the next run.
        if error is CancellationError { throw error }
        let failure = error as? any ConnectorFailure
        let message = (error as? any LetheError)?.message ?? "unexpected error (\(type(of: error)))"
        let attempts = operation.attempts + 1
        let transient = failure?.isTransient ?? !(error is any LetheError)
        guard transient, attempts < retry.maxAttempts else {
            var dead = operation
            dead.attempts = attempts - 1
            return try await deadLetter(dead, error: message, code: failure?.code, summary: &summary)
        }
        let delay = retry.delay(afterAttempt: attempts, retryAfter: failure?.retryAfter)
        let seconds = Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18
        log(.warning, "operation failed, will retry", ["operation": operation.id, "kind": operation.kind.rawValue, "attempt": String(attempts), "code": failure?.code ?? "unknown"])
        try await store.complete(
            OperationCompletion(
                operationID: operation.id, status: .pending, attempts: attempts, nextAttemptAt: Date().addingTimeInterval(seconds),
                error: message,
                audit: [AuditDraft(at: clock.now(), event: "operation.retry", connector: operation.connector,
                                   reference: operation.reference, rule: operation.rule, operation: operation.id,
                                   detail: ["kind": operation.kind.rawValue, "attempt": String(attempts), "code": failure?.code ?? "unknown"])]
            )
        )
    }

    func deadLetter(_ operation: OutboxOperation, error: String, code: String? = nil, summary: inout SyncSummary) async throws {
        log(.error, "operation dead-lettered", ["operation": operation.id, "kind": operation.kind.rawValue, "code": code ?? "unknown"])
        try await store.complete(
            OperationCompletion(
                operationID: operation.id, status: .dead, attempts: operation.attempts + 1, error: error,
                audit: [AuditDraft(at: clock.now(), event: "operation.dead", connector: operation.connector,
                                   reference: operation.reference, rule: operation.rule, operation: operation.id,
                                   detail: ["kind": operation.kind.rawValue, "code": code ?? "unknown", "error": error])]
            )
        )
        summary.failed += 1
    }
}

extension OutboxExecutor {

    static let deferredMarker = "deferred: quiet hours"

    /// RFC 2369 `List-Unsubscribe`: the decline link (which asks for confirmation, so a mail client's
    /// one-click fetch changes nothing) and a mail to the sender.
    static func unsubscribeHeaders(declineLink: String?, sender: String) -> [String: String] {
        var targets: [String] = []
        if let declineLink, !declineLink.isEmpty { targets.append("<\(declineLink)>") }
        if sender.contains("@"), !sender.contains(where: { "<>\r\n, ".contains($0) }) { targets.append("<mailto:\(sender)?subject=unsubscribe>") }
        return targets.isEmpty ? [:] : ["List-Unsubscribe": targets.joined(separator: ", ")]
    }

    static func isDeferred(_ operation: OutboxOperation) -> Bool {
        operation.kind == .notify && operation.lastError == deferredMarker
    }

    /// A notice due inside its rule's quiet hours waits for the window's end (not a failure: the
    /// attempt count is unchanged and no run dead-letters it).
    func deferNotice(_ operation: OutboxOperation, until: Date) async throws {
        guard !Self.isDeferred(operation) || (operation.nextAttemptAt ?? .distantPast) < until else { return }
        try await store.complete(
            OperationCompletion(
                operationID: operation.id, status: .pending, attempts: operation.attempts, nextAttemptAt: until,
                error: Self.deferredMarker,
                audit: [AuditDraft(at: clock.now(), event: "operation.deferred", connector: operation.connector,
                                   reference: operation.reference, rule: operation.rule, operation: operation.id,
                                   detail: ["kind": "notify", "until": AuditTimestamp.iso8601(until), "reason": "quiet_hours"])]
            )
        )
    }
}
