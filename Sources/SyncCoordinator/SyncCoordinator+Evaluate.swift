import Foundation
import RetentionCore
import RetentionStore

extension SyncCoordinator {
    /// Records evaluated, and changes committed, per transaction: large enough that a big sync needs
    /// few commits, small enough to bound memory.
    static let pageSize = 5000

    /// A record whose evaluation wants it deleted; queued after the safety check.
    /// Kept for every such record until the safety check, so it holds only what queuing needs: the
    /// operations are built from it then.
    struct DeleteCandidate {
        var reference: String
        var recordID: String
        var state: LifecycleState
        var previousPhase: RecordPhase?
        var operations: [(id: String, planned: PlannedOperation)]

        func outboxOperations(connector: String, at now: Date) -> [OutboxOperation] {
            operations.map {
                OutboxOperation(
                    id: $0.id, connector: connector, reference: reference, recordID: recordID, kind: $0.planned.kind,
                    rule: $0.planned.rule, cycle: $0.planned.cycle, fields: $0.planned.fields, createdAt: now
                )
            }
        }
    }

    /// Evaluates every live record, commits state changes and non-delete operations page by page,
    /// then queues the deletes — or holds them for approval when they exceed the safety limits.
    ///
    /// With `only`, just those records are evaluated (a webhook's records); then only the absolute
    /// limit (`maxDeletesPerRun`) applies: a share of "the records seen" means nothing for a handful
    /// of records named by the CRM, and the mirror may not hold the whole CRM yet.
    ///
    /// With `onlySeenIn`, records not seen in that run are skipped: they are missing from the source
    /// and wait for approval, so nothing is decided from their last known copy.
    func evaluate(
        _ connector: ConnectorRuntime, now: Date, dryRun: Bool, only: Set<String>? = nil, onlySeenIn run: Int64? = nil, summary: inout SyncSummary
    ) async throws {
        let policy = connector.policy
        let held = try await store.heldReferences(connector: connector.name)
        var candidates: [DeleteCandidate] = []
        var liveValid = 0
        var cursor: String?
        var remaining = only.map { Array($0).sorted() }
        while true {
            let page: [StoredRecord]
            if var references = remaining {
                guard !references.isEmpty else { break }
                let chunk = Array(references.prefix(Self.pageSize))
                references.removeFirst(chunk.count)
                remaining = references
                var found: [StoredRecord] = []
                for reference in chunk {
                    if let stored = try await store.record(connector: connector.name, reference: reference) { found.append(stored) }
                }
                page = found
            } else {
                let next = try await store.liveRecordPage(connector: connector.name, after: cursor, limit: Self.pageSize)
                guard let position = next.next, !next.records.isEmpty else { break }
                cursor = position
                page = next.records
            }
            var changes: [RecordChange] = []
            var audit: [AuditDraft] = []
            for stored in page {
                guard let record = stored.record, let recordID = stored.recordID else { continue }
                if let run, stored.seenRun != run { continue }
                let interpretation: Interpretation =
                    stored.duplicateLines.isEmpty
                    ? policy.interpret(record, now: now) : .quarantined(.duplicateID(lines: stored.duplicateLines))
                let isHeld = held.contains(stored.reference)
                let decision = policy.evaluate(interpretation, previous: stored.state, held: isHeld, now: now)
                if let reason = decision.quarantine {
                    let lines = stored.duplicateLines.isEmpty ? [record.line] : stored.duplicateLines.map { Optional($0) }
                    for line in lines {
                        summary.quarantinedRows.append(.init(line: line, reference: stored.reference, code: reason.code, reason: reason.detail))
                    }
                } else {
                    liveValid += 1
                    if isHeld { summary.held += 1 }
                }
                let destructive = decision.operations.filter { $0.kind == .delete || $0.kind == .archive }
                if !destructive.isEmpty {
                    candidates.append(
                        DeleteCandidate(
                            reference: stored.reference, recordID: recordID, state: decision.state,
                            previousPhase: stored.state?.phase,
                            operations: destructive.map { (OperationIdentifier.make(connector: connector.name, recordID: recordID, operation: $0), $0) }
                        )
                    )
                }
                let others = decision.operations.filter { $0.kind != .delete && $0.kind != .archive }.map {
                    OutboxOperation(
                        id: OperationIdentifier.make(connector: connector.name, recordID: recordID, operation: $0),
                        connector: connector.name, reference: stored.reference, recordID: recordID, kind: $0.kind,
                        rule: $0.rule, cycle: $0.cycle, fields: $0.fields, createdAt: now
                    )
                }
                if dryRun {
                    count(others, into: &summary)
                    continue
                }
                if destructive.isEmpty, decision.state.phase != stored.state?.phase, let event = Self.auditEvent(for: decision.state.phase) {
                    var detail: [String: String] = [:]
                    if let reason = decision.quarantine { detail = ["reason": reason.code] }
                    audit.append(AuditDraft(at: now, event: event, connector: connector.name, reference: stored.reference, detail: detail))
                }
                // Records that want a delete are written by `queueDeletes`, after the safety check.
                if destructive.isEmpty, decision.state != stored.state || !others.isEmpty {
                    changes.append(RecordChange(connector: connector.name, reference: stored.reference, state: decision.state, operations: others))
                }
            }
            if !dryRun {
                audit += try await reenforce(&changes, now: now, summary: &summary)
                try await store.commit(changes, audit: audit)
            }
        }
        summary.liveRecords = liveValid
        var limits = connector
        if only != nil { limits.safety.maxDeleteFraction = 1 }
        try await queueDeletes(candidates, connector: limits, liveValid: liveValid, now: now, dryRun: dryRun, summary: &summary)
    }

    /// Decisions taken again after they were done — erased fields that hold values again (a restore, a
    /// rewrite that did not stick) — become the next round of the operation, with an id of its own,
    /// so they are enforced again instead of being taken for done; one `fields.reappeared` audit entry
    /// each. (A record restored after its deletion comes back through ingest as a new generation.)
    private func reenforce(_ changes: inout [RecordChange], now: Date, summary: inout SyncSummary) async throws -> [AuditDraft] {
        var audit: [AuditDraft] = []
        for index in changes.indices where changes[index].operations.contains(where: { $0.kind == .eraseFields }) {
            let before = changes[index].operations
            changes[index].operations = try await nextRounds(before)
            for (old, new) in zip(before, changes[index].operations) where old.id != new.id {
                audit.append(AuditDraft(at: now, event: "fields.reappeared", connector: new.connector, reference: new.reference, rule: new.rule,
                                        detail: ["fields": new.fields.map(\.field).joined(separator: ";"), "reason": "values again after their erasure"]))
                summary.reappeared += 1
            }
        }
        return audit
    }

    /// Each destructive operation (delete, archive, erasure) whose id is already done is given the
    /// id of its next round not done yet.
    func nextRounds(_ operations: [OutboxOperation]) async throws -> [OutboxOperation] {
        var result = operations
        var open = result.indices.filter { [.delete, .archive, .eraseFields].contains(result[$0].kind) && result[$0].recordID != nil }
        var round = 0
        while !open.isEmpty, round < 64 {
            let statuses = try await store.operationStatuses(open.map { result[$0].id })
            open = open.filter { statuses[result[$0].id] == .done }
            round += 1
            for index in open {
                let operation = result[index]
                result[index].id = OperationIdentifier.make(
                    connector: operation.connector, recordID: operation.recordID ?? "",
                    operation: PlannedOperation(kind: operation.kind, rule: operation.rule, cycle: operation.cycle, fields: operation.fields), round: round)
            }
        }
        return result
    }

    private func queueDeletes(
        _ candidates: [DeleteCandidate], connector: ConnectorRuntime, liveValid: Int, now: Date, dryRun: Bool,
        summary: inout SyncSummary
    ) async throws {
        // A record destroyed before and seen again is enforced again: its delete is the next round.
        var candidates = candidates
        let next = try await nextRounds(candidates.flatMap { $0.outboxOperations(connector: connector.name, at: now) })
        var position = 0
        for index in candidates.indices {
            let count = candidates[index].operations.count
            candidates[index].operations = zip(candidates[index].operations, next[position..<(position + count)]).map { ($1.id, $0.planned) }
            position += count
        }
        let known = try await store.existingOperationIDs(candidates.flatMap { $0.operations.map(\.id) })
        let fresh = candidates.filter { candidate in candidate.operations.contains { !known.contains($0.id) } }
        let exceeded = connector.safety.exceeded(deletes: fresh.count, liveRecords: liveValid)
        if dryRun {
            if exceeded {
                summary.awaitingApproval += fresh.count
            } else {
                for candidate in fresh { count(candidate.operations.map(\.planned.kind), into: &summary) }
            }
            return
        }
        var batch: ApprovalBatch?
        if exceeded, !fresh.isEmpty {
            batch = try await store.openApprovalBatch(connector: connector.name)
            if batch == nil { batch = try await store.createApprovalBatch(connector: connector.name, at: now) }
            log(.warning, "deletes exceed the safety limit and wait for approval", [
                "connector": connector.name, "deletes": String(fresh.count), "liveRecords": String(liveValid),
                "batch": batch?.id ?? "",
            ])
        }
        var changes: [RecordChange] = []
        var audit: [AuditDraft] = []
        for candidate in candidates {
            var state = candidate.state
            var operations = candidate.outboxOperations(connector: connector.name, at: now).filter { !known.contains($0.id) }
            if let batch {
                state.phase = .awaitingApproval
                for index in operations.indices {
                    operations[index].status = .awaitingApproval
                    operations[index].batch = batch.id
                }
            }
            if operations.isEmpty, state == candidate.state, candidate.previousPhase == state.phase {
                continue  // already queued by an earlier run, nothing changed
            }
            if state.phase != candidate.previousPhase, let event = Self.auditEvent(for: state.phase) {
                audit.append(AuditDraft(at: now, event: event, connector: connector.name, reference: candidate.reference))
            }
            changes.append(RecordChange(connector: connector.name, reference: candidate.reference, state: state, operations: operations))
            if changes.count >= Self.pageSize {
                try await store.commit(changes, audit: audit)
                changes.removeAll(keepingCapacity: true)
                audit.removeAll(keepingCapacity: true)
            }
        }
        try await store.commit(changes, audit: audit)
    }

    func count(_ operations: [OutboxOperation], into summary: inout SyncSummary) {
        count(operations.map(\.kind), into: &summary)
    }

    func count(_ kinds: [OperationKind], into summary: inout SyncSummary) {
        for kind in kinds {
            switch kind {
            case .notify: summary.noticesSent += 1
            case .extend: summary.extended += 1
            case .eraseFields: summary.fieldsErased += 1
            case .archive: summary.archived += 1
            case .delete: summary.deleted += 1
            }
        }
    }

    static func auditEvent(for phase: RecordPhase) -> String? {
        switch phase {
        case .quarantined: "record.quarantined"
        case .held: "record.held"
        case .expiring: "record.expiring"
        case .awaitingApproval: "record.awaiting-approval"
        case .active, .deleted, .gone: nil
        }
    }
}
