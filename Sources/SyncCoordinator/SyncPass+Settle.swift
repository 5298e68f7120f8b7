import Foundation
import RetentionCore
import RetentionStore

extension SyncPass {
    /// After the read: duplicates quarantined, vanished records tombstoned (within the safety limits),
    /// records whose time came evaluated, unchanged quarantined records reported, and the staged
    /// deletes counted against the safety limits and published (pending, or held for approval).
    func settle(summary: inout SyncSummary) async throws {
        try await settleDuplicates(summary: &summary)
        if full { try await retireUnseen(summary: &summary) }
        if timeDue { try await evaluateDue(summary: &summary) }
        try await reportQuarantined(summary: &summary)
        summary.liveRecords = liveValid()
        summary.held = heldCount()
        try await release(summary: &summary)
    }

    /// A record whose id is on several rows cannot be judged from any of them.
    private func settleDuplicates(summary: inout SyncSummary) async throws {
        guard !duplicates.isEmpty else { return }
        let stored = try await store.records(connector: connector.name, keys: Array(duplicates.keys))
        var writes = RecordWrites(at: now)
        // Whatever was reported for these lines is replaced by the duplicate's report.
        let lines = Set(duplicates.values.joined())
        summary.quarantinedRows.removeAll { $0.line.map(lines.contains) ?? false }
        for (key, rows) in duplicates.sorted(by: { $0.key < $1.key }) {
            let reference = stored[key]?.reference ?? duplicateReferences[key]
            let reason = QuarantineReason.duplicateID(lines: rows)
            for line in rows { summary.quarantinedRows.append(.init(line: line, reference: reference, code: reason.code, reason: reason.detail)) }
            if let index = known.index(of: key) {
                if dryRun { uncount(counted[index], summary: &summary) }
                evaluated[index] = true
            } else if dryRun, let counted = newRecords.counted(key) {
                uncount(counted, summary: &summary)
            }
            newRecords.setCounted(key, 0)
            let wasQuarantined = known.index(of: key).map { known.flags[$0].contains(.quarantined) } ?? false
            writes.duplicates.append((key, rows, wasQuarantined))
        }
        if !dryRun { try await store.write(connector: connector.name, writes) }
    }

    /// After a complete full pull, records the source no longer has are tombstoned as gone — unless
    /// there are more of them than the safety limits allow for deletes (a truncated export, a list
    /// that came back empty): then none is tombstoned, they wait in the connector's approval batch,
    /// and nothing is decided from their last known copy.
    private func retireUnseen(summary: inout SyncSummary) async throws {
        var unseen: [Int64] = []
        var liveBefore = 0
        for index in 0..<known.count where known.flags[index].contains(.live) {
            liveBefore += 1
            if !seen[index] { unseen.append(known.keys[index]) }
        }
        let approved = dryRun ? [] : try await store.approvedDisappearances(connector: connector.name, stillMissing: unseen)
        guard !unseen.isEmpty else { return }
        let fresh = unseen.filter { !approved.contains($0) }
        guard connector.safety.exceeded(deletes: fresh.count, liveRecords: liveBefore) else {
            summary.gone = dryRun ? unseen.count : try await store.tombstone(connector: connector.name, keys: unseen, phase: .gone, at: now, via: "pull")
            return
        }
        missingHeld = true
        summary.missingAwaitingApproval = fresh.count
        if dryRun { return }
        summary.gone = try await store.tombstone(connector: connector.name, keys: unseen.filter(approved.contains), phase: .gone, at: now, via: "pull")
        var batch = try await store.openApprovalBatch(connector: connector.name)
        if batch == nil { batch = try await store.createApprovalBatch(connector: connector.name, at: now) }
        guard let batch else { return }
        try await store.holdDisappearances(connector: connector.name, keys: fresh, batch: batch.id, at: now)
        summary.approvalBatch = batch.id
        coordinator.log(.warning, "records missing from the source exceed the safety limit: none is marked gone until approved", [
            "connector": connector.name, "missing": String(fresh.count), "liveRecords": String(liveBefore), "batch": batch.id,
        ])
    }

    /// Records not read changed whose next change has come (an expiry, a notice window), a hold placed
    /// or lifted: evaluated from the facts the state keeps, a batch at a time.
    private func evaluateDue(summary: inout SyncSummary) async throws {
        let instant = now.timeIntervalSince1970
        var due: [Int64] = []
        for index in 0..<known.count where known.dues[index] <= instant && !evaluated[index] {
            let flags = known.flags[index]
            guard flags.contains(.live), flags.contains(.facts), !flags.contains(.duplicated), !full || seen[index] else { continue }
            evaluated[index] = true
            due.append(known.keys[index])
        }
        for start in stride(from: 0, to: due.count, by: Self.batchSize) {
            let keys = Array(due[start..<min(start + Self.batchSize, due.count)])
            let stored = try await store.records(connector: connector.name, keys: keys)
            var changes: [RecordChange] = []
            var audit: [AuditDraft] = []
            for key in keys {
                guard let record = stored[key], let recordID = record.recordID, let facts = record.facts else { continue }
                let outcome = evaluate(
                    key: key, reference: record.reference, recordID: recordID, facts: facts, previous: record.state, line: record.line,
                    summary: &summary)
                audit += outcome.audit
                changes.append(RecordChange(
                    connector: connector.name, reference: record.reference, key: key, state: outcome.state, nextDue: outcome.nextDue,
                    operations: outcome.operations))
            }
            let before = changes.flatMap(\.operations)
            // Nothing was ever done (a dry run where nothing was queued): every decision is its first round.
            let after = nothingQueued ? before : try await coordinator.nextRounds(before)
            var position = 0
            for index in changes.indices {
                let count = changes[index].operations.count
                let next = Array(after[position..<(position + count)])
                for (old, new) in zip(changes[index].operations, next) where old.id != new.id && new.kind == .eraseFields {
                    audit.append(AuditDraft(at: now, event: "fields.reappeared", connector: new.connector, reference: new.reference, rule: new.rule,
                                            detail: ["fields": new.fields.map(\.field).joined(separator: ";"), "reason": "values again after their erasure"]))
                    summary.reappeared += 1
                }
                changes[index].operations = next
                position += count
            }
            if dryRun {
                let fresh = nothingQueued ? [] : try await freshDestructive(changes.flatMap(\.operations))
                for change in changes { _ = count(change.operations, fresh: fresh, summary: &summary) }
            } else {
                try await store.write(connector: connector.name, RecordWrites(at: now, changes: changes, audit: audit))
            }
        }
    }

    /// Quarantined records read unchanged are still reported, where they are now.
    private func reportQuarantined(summary: inout SyncSummary) async throws {
        let rows = quarantinedUnchanged.filter { !evaluated[$0.index] && duplicates[known.keys[$0.index]] == nil }
        guard !rows.isEmpty else { return }
        var writes = RecordWrites(at: now)
        for start in stride(from: 0, to: rows.count, by: Self.batchSize) {
            let chunk = rows[start..<min(start + Self.batchSize, rows.count)]
            let stored = try await store.records(connector: connector.name, keys: chunk.map { known.keys[$0.index] })
            for (index, line) in chunk {
                guard let record = stored[known.keys[index]] else { continue }
                let reason = record.reason ?? QuarantineReason(code: "quarantined")
                summary.quarantinedRows.append(.init(line: Int(line), reference: record.reference, code: reason.code, reason: reason.detail))
                if record.line != Int(line) { writes.lines.append((record.key, Int(line))) }
            }
        }
        if !dryRun { try await store.write(connector: connector.name, writes) }
    }

    /// Live records that are not quarantined after this pass: the base of `maxDeleteFraction`.
    func liveValid() -> Int {
        var valid = 0
        for index in 0..<known.count {
            let flags = known.flags[index]
            guard flags.contains(.live), !full || seen[index], !evaluated[index], !flags.contains(.quarantined) else { continue }
            valid += 1
        }
        return valid + validEvaluated
    }

    func heldCount() -> Int {
        var count = heldEvaluated
        for index in 0..<known.count where known.flags[index].contains(.held) && !evaluated[index] && (!full || seen[index]) { count += 1 }
        return count
    }

    /// The staged deletes against the safety limits: new ones beyond `maxDeletesPerRun` or
    /// `maxDeleteFraction` of the live records all wait in the connector's one open approval batch.
    private func release(summary: inout SyncSummary) async throws {
        if dryRun {
            if connector.safety.exceeded(deletes: freshDeletes, liveRecords: summary.liveRecords) {
                summary.awaitingApproval += freshDeletes
            } else {
                summary.deleted += freshDeletes
                summary.archived += freshArchives
            }
            return
        }
        let staged = try await store.stagedDeletes(connector: connector.name)
        var batch: ApprovalBatch?
        if staged > 0, connector.safety.exceeded(deletes: staged, liveRecords: summary.liveRecords) {
            batch = try await store.openApprovalBatch(connector: connector.name)
            if batch == nil { batch = try await store.createApprovalBatch(connector: connector.name, at: now) }
            coordinator.log(.warning, "deletes exceed the safety limit and wait for approval", [
                "connector": connector.name, "deletes": String(staged), "liveRecords": String(summary.liveRecords), "batch": batch?.id ?? "",
            ])
        }
        try await store.releaseStaged(connector: connector.name, batch: batch?.id, at: now)
    }
}
