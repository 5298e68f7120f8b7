import Foundation
import RetentionCore
import RetentionStore

/// One pass of a sync over a connector: what was read, what was evaluated, what is left to settle.
///
/// The state is compared with the source by record key and row digest: a row that did not change is
/// never turned into a record (a scanning source reports it by position), and a record is evaluated
/// only when it was read changed or new, or when its next change (`Policy.nextChange`) has come.
/// Memory holds a few bytes per known record and one batch of read records, never the whole source.
final class SyncPass {
    static let batchSize = 5_000

    let coordinator: SyncCoordinator
    let connector: ConnectorRuntime
    let policy: Policy
    let layout: PolicyLayout
    let now: Date
    let dryRun: Bool
    /// A complete full pull: a known record it did not see has vanished.
    let full: Bool
    /// Records whose next change has come are evaluated too (not in a webhook's sync of named records).
    let timeDue: Bool
    let known: KnownRecords
    let held: Set<String>
    /// The digests kept are not comparable with this reading (another policy or other settings).
    let readingChanged: Bool
    /// Dry run on a connector with nothing ever queued (a first sync's dry run): every decision would
    /// be queued anew, so operations need no ids and nothing is looked up.
    let nothingQueued: Bool

    var store: any StateStore { coordinator.store }

    /// Per known record: seen in this read, evaluated in this pass, its line in this read, and (dry
    /// run) the operation kinds counted for it.
    var seen: [Bool]
    var evaluated: [Bool]
    var lines: [Int32]
    var counted: [UInt8]
    /// Keys the state did not know, read in this pass: the line of the first row and (dry run) what
    /// was counted for it.
    var newRecords = KeyTable()
    /// Keys found on several rows of this read: every line, in read order.
    var duplicates: [Int64: [Int]] = [:]
    /// Dry run: the references of duplicated keys the state does not know.
    var duplicateReferences: [Int64: String] = [:]
    var quarantinedUnchanged: [(index: Int, line: Int32)] = []
    var pending: [(row: ScannedRow, index: Int?)] = []
    /// Dry run: destructive operations that would be queued anew.
    var freshDeletes = 0
    var freshArchives = 0
    var missingHeld = false
    /// Records evaluated in this pass that are not quarantined, and those of them on hold.
    var validEvaluated = 0
    var heldEvaluated = 0
    /// The write of the previous batches, going on while the next are evaluated.
    var writing: Task<Int, any Error>?
    /// Evaluated batches not written yet: written together, in one transaction, once they hold
    /// `writeBatch` records (a commit rewrites every page it touched, and random keys touch most pages
    /// of their indexes, so fewer, larger commits write far less).
    var unwritten: RecordWrites?
    static let writeBatch = 25_000

    init(coordinator: SyncCoordinator, connector: ConnectorRuntime, now: Date, dryRun: Bool, full: Bool, timeDue: Bool = true) async throws {
        self.coordinator = coordinator
        self.connector = connector
        self.policy = connector.policy
        self.layout = PolicyLayout(connector.policy)
        self.now = now
        self.dryRun = dryRun
        self.full = full
        self.timeDue = timeDue
        let store = coordinator.store
        let reading = Self.readingFingerprint(connector, fingerprints: store.fingerprints)
        let previous = try await store.readingFingerprint(connector: connector.name)
        readingChanged = previous != reading
        if readingChanged, !dryRun {
            // Another policy or other settings: the stored facts and digests are forgotten (read again).
            try await store.setReadingFingerprint(connector: connector.name, reading)
        }
        known = try await store.knownRecords(connector: connector.name)
        nothingQueued = dryRun
            ? try await store.operations(connector: connector.name, statuses: Set(OperationStatus.allCases), after: 0, limit: 1).isEmpty
            : false
        held = try await store.heldReferences(connector: connector.name)
        seen = Array(repeating: false, count: known.count)
        evaluated = Array(repeating: false, count: known.count)
        lines = Array(repeating: 0, count: known.count)
        counted = dryRun ? Array(repeating: 0, count: known.count) : []
    }

    /// Policy and source settings the facts and digests are read under.
    static func readingFingerprint(_ connector: ConnectorRuntime, fingerprints: RecordFingerprints) -> String {
        let policy = fingerprints.fingerprint(String(reflecting: connector.policy))
        let settings = fingerprints.fingerprint(connector.settingsFingerprint)
        return String(policy, radix: 16) + "-" + String(settings, radix: 16)
    }

    var scanKeys: ScanKeys {
        let policyPrint = store.fingerprints.fingerprint(String(reflecting: policy))
        let settingsPrint = store.fingerprints.fingerprint(connector.settingsFingerprint)
        return ScanKeys(
            fingerprints: store.fingerprints, connector: connector.name,
            digests: store.fingerprints.rowDigests(sourceFingerprint: settingsPrint, policyFingerprint: policyPrint),
            reading: PolicyReading(policy: policy, layout: layout))
    }

    // MARK: Reading

    /// Reads the source (all of it, or what changed since the watermark).
    func read(summary: inout SyncSummary) async throws {
        let watermark = try await store.watermark(connector: connector.name)
        let request = PullRequest(watermark: watermark, full: full)
        let skippable = readingChanged ? KnownRows(keys: known.keys, digests: Array(repeating: 0, count: known.count)) : known.skippable
        var latest = watermark
        // Reading runs ahead on a task of its own; each batch's writes go on while the next is evaluated.
        for try await batch in Prefetched(base: connector.source.scanRecords(request, known: skippable, keys: scanKeys), capacity: 2) {
            try await take(batch, summary: &summary)
            latest = batch.watermark ?? latest
        }
        try await flush(summary: &summary)
        try await drainWrites()
        if !dryRun { try await store.setWatermark(connector: connector.name, value: latest) }
    }

    /// Takes records read by id (a webhook's records).
    func read(records: [SourceRecord], summary: inout SyncSummary) async throws {
        let keys = scanKeys
        var batch = ScanBatch()
        for record in records {
            let id = FastText.trimmed(record.id, newlines: true)
            batch.rows.append(ScannedRow(
                id: id, line: record.line, key: id.isEmpty ? 0 : keys.fingerprints.key(connector: connector.name, id: id),
                digest: keys.digests.digest(record), content: .record(record)))
        }
        try await take(batch, summary: &summary)
        try await flush(summary: &summary)
        try await drainWrites()
    }

    private func take(_ batch: ScanBatch, summary: inout SyncSummary) async throws {
        summary.pulled += batch.unchanged.count + batch.rows.count
        for row in batch.unchanged {
            let index = Int(row.index)
            if seen[index] {
                duplicates[known.keys[index], default: [Int(lines[index])]].append(Int(row.line))
                continue
            }
            seen[index] = true
            lines[index] = row.line
            if known.flags[index].contains(.quarantined) { quarantinedUnchanged.append((index, row.line)) }
        }
        for row in batch.rows {
            if row.id.isEmpty {
                let reason = row.unaddressable
                summary.quarantinedRows.append(.init(line: row.line, reference: nil, code: reason.code, reason: reason.detail))
                continue
            }
            let key = row.key
            let line = Int32(clamping: row.line ?? 0)
            if let index = known.index(of: key) {
                if seen[index] {
                    duplicates[key, default: [Int(lines[index])]].append(Int(line))
                    continue
                }
                seen[index] = true
                lines[index] = line
                evaluated[index] = true
                pending.append((row, index))
            } else if let first = newRecords.line(of: key) {
                duplicates[key, default: [Int(first)]].append(Int(line))
                if dryRun { duplicateReferences[key] = store.fingerprints.reference(connector: connector.name, id: row.id) }
                continue
            } else {
                newRecords.insert(key, line: line)
                pending.append((row, nil))
            }
            if pending.count >= Self.batchSize { try await flush(summary: &summary) }
        }
    }

    // MARK: Evaluating

    /// Evaluates the records read (a batch at a time) and writes them with what they cause.
    func flush(summary: inout SyncSummary) async throws {
        guard !pending.isEmpty else { return }
        let batch = pending
        pending.removeAll(keepingCapacity: true)
        let existing = batch.compactMap { $0.index == nil ? nil : $0.row.key }
        let previous = existing.isEmpty ? [:] : try await store.records(connector: connector.name, keys: existing)
        // Both cores evaluate: the batch is cut in two halves, evaluated at once (the evaluation is pure).
        let evaluator = self.evaluator
        let fingerprints = store.fingerprints
        let name = connector.name
        let writes = !dryRun
        let half = max(1, (batch.count + 1) / 2)
        var evaluated = try await withThrowingTaskGroup(of: (Int, [RecordUpsert], [Evaluator.Tally]).self) { group in
            for start in stride(from: 0, to: batch.count, by: half) {
                group.addTask {
                    var upserts: [RecordUpsert] = []
                    var tallies: [Evaluator.Tally] = []
                    upserts.reserveCapacity(half)
                    tallies.reserveCapacity(half)
                    for position in start..<min(start + half, batch.count) {
                        // The row's parts are read where they are (a copy of the whole row costs a
                        // reference count per field).
                        let key = batch[position].row.key
                        let id = batch[position].row.id
                        let isNew = batch[position].index == nil
                        let stored = isNew ? nil : previous[key]
                        // A tombstone (deleted or gone) that is read again starts a new generation.
                        let alive = stored?.recordID != nil
                        let reference = stored?.reference ?? fingerprints.reference(connector: name, id: id)
                        let facts: SourceFacts
                        switch batch[position].row.content {
                        case .facts(let read): facts = read
                        case .record(let record): facts = evaluator.policy.facts(of: record, layout: evaluator.layout)
                        }
                        let outcome = evaluator.outcome(
                            key: key, reference: reference, recordID: id, facts: facts, previous: alive ? stored?.state : nil)
                        tallies.append(outcome.tally)
                        var upsert = RecordUpsert(
                            key: key, reference: reference, recordID: id, digest: batch[position].row.digest, facts: facts,
                            line: batch[position].row.line, state: outcome.state, nextDue: outcome.nextDue, reason: outcome.reason,
                            operations: outcome.operations, isNew: isNew)
                        // Encoded here, on both cores, rather than by the store's one writer.
                        if writes { upsert.encode() }
                        upserts.append(upsert)
                    }
                    return (start, upserts, tallies)
                }
            }
            var parts: [(Int, [RecordUpsert], [Evaluator.Tally])] = []
            for try await part in group { parts.append(part) }
            return parts.sorted { $0.0 < $1.0 }
        }
        var upserts: [RecordUpsert] = []
        var audit: [AuditDraft] = []
        for (start, part, tallies) in evaluated {
            for offset in tallies.indices {
                let position = start + offset
                if batch[position].index != nil, previous[batch[position].row.key]?.state?.phase == .deleted { summary.reappeared += 1 }
                tally(tallies[offset], reference: part[offset].reference, line: batch[position].row.line, summary: &summary)
                if !tallies[offset].audit.isEmpty { audit += tallies[offset].audit }
            }
        }
        // The first half's array becomes the batch's (moved, not copied): only the second is copied.
        for index in evaluated.indices {
            if upserts.isEmpty {
                swap(&upserts, &evaluated[index].1)
                upserts.reserveCapacity(batch.count)
            } else {
                upserts += evaluated[index].1
                evaluated[index].1 = []
            }
        }
        // Destroyed before and decided again: the next round of each operation.
        try await reenforce(&upserts, audit: &audit, summary: &summary)
        if dryRun {
            let fresh = nothingQueued ? [] : try await freshDestructive(upserts)
            for position in batch.indices {
                let kind = count(upserts[position].operations, fresh: fresh, summary: &summary)
                if let index = batch[position].index {
                    counted[index] = kind
                } else {
                    newRecords.setCounted(batch[position].row.key, kind)
                }
            }
        }
        if !dryRun {
            // Taken out of `unwritten` before it grows: appending to a shared copy would copy it all.
            var writes = unwritten ?? RecordWrites(at: now)
            unwritten = nil
            if writes.upserts.isEmpty {
                swap(&writes.upserts, &upserts)
                writes.upserts.reserveCapacity(Self.writeBatch + Self.batchSize)
            } else {
                writes.upserts += upserts
            }
            writes.audit += audit
            unwritten = writes
            if writes.upserts.count >= Self.writeBatch { try await submitWrites() }
        }
    }

    /// Starts writing the unwritten batches: one write in flight at a time, in order (the previous
    /// one must be done first).
    private func submitWrites() async throws {
        _ = try await writing?.value
        writing = nil
        guard let writes = unwritten else { return }
        unwritten = nil
        let store = self.store
        let name = connector.name
        writing = Task { try await store.write(connector: name, writes) }
    }

    /// Writes what is left and waits until every write is done.
    func drainWrites() async throws {
        try await submitWrites()
        _ = try await writing?.value
        writing = nil
    }

    /// What the lifecycle decides for one record, as the outbox and the state take it (see `Evaluator`),
    /// counted into the summary.
    func evaluate(
        key: Int64, reference: String, recordID: String, facts: SourceFacts, previous: LifecycleState?, line: Int?,
        duplicateLines: [Int] = [], summary: inout SyncSummary
    ) -> Evaluator.Outcome {
        let outcome = evaluator.outcome(
            key: key, reference: reference, recordID: recordID, facts: facts, previous: previous, duplicateLines: duplicateLines)
        tally(outcome.tally, reference: reference, line: line, duplicateLines: duplicateLines, summary: &summary)
        return outcome
    }

    /// Adds an outcome's quarantine rows and counts to the summary.
    func tally(_ outcome: Evaluator.Tally, reference: String, line: Int?, duplicateLines: [Int] = [], summary: inout SyncSummary) {
        if let reason = outcome.reason {
            let rows = duplicateLines.isEmpty ? [line] : duplicateLines.map { Optional($0) }
            for line in rows { summary.quarantinedRows.append(.init(line: line, reference: reference, code: reason.code, reason: reason.detail)) }
        } else {
            validEvaluated += 1
            if outcome.held { heldEvaluated += 1 }
        }
    }

    var evaluator: Evaluator {
        Evaluator(
            policy: policy, layout: layout, now: now, connector: connector.name, held: held, operationIDs: store.operationIDs,
            identifiesOperations: !nothingQueued)
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

    /// A decision taken again after its operation was done — a record restored after its deletion,
    /// erased fields that hold values again — is the operation's next round, with an id of its own,
    /// so it is enforced again instead of being taken for done (`fields.reappeared` for erasures; a
    /// returning record has its `record.reappeared`).
    private func reenforce(_ upserts: inout [RecordUpsert], audit: inout [AuditDraft], summary: inout SyncSummary) async throws {
        // Nothing was ever done: every decision is its first round.
        guard !nothingQueued else { return }
        let candidates = upserts.indices.filter { index in
            !upserts[index].isNew && upserts[index].operations.contains { $0.kind == .delete || $0.kind == .archive || $0.kind == .eraseFields }
        }
        guard !candidates.isEmpty else { return }
        let before = candidates.flatMap { upserts[$0].operations }
        let after = try await coordinator.nextRounds(before)
        var position = 0
        for index in candidates {
            let count = upserts[index].operations.count
            let next = Array(after[position..<(position + count)])
            for (old, new) in zip(upserts[index].operations, next) where old.id != new.id && new.kind == .eraseFields {
                audit.append(AuditDraft(at: now, event: "fields.reappeared", connector: new.connector, reference: new.reference, rule: new.rule,
                                        detail: ["fields": new.fields.map(\.field).joined(separator: ";"), "reason": "values again after their erasure"]))
                summary.reappeared += 1
            }
            upserts[index].operations = next
            position += count
        }
    }

    /// Dry run: the destructive operations that would be queued anew (not already queued, done or dead).
    func freshDestructive(_ operations: [OutboxOperation]) async throws -> Set<String> {
        guard dryRun else { return [] }
        let destructive = operations.filter { $0.kind == .delete || $0.kind == .archive }.map(\.id)
        return try await freshDestructive(ids: destructive)
    }

    /// Dry run: the same, for the operations of a batch of records.
    func freshDestructive(_ upserts: [RecordUpsert]) async throws -> Set<String> {
        guard dryRun else { return [] }
        var destructive: [String] = []
        for index in upserts.indices {
            for operation in upserts[index].operations where operation.kind == .delete || operation.kind == .archive { destructive.append(operation.id) }
        }
        return try await freshDestructive(ids: destructive)
    }

    private func freshDestructive(ids destructive: [String]) async throws -> Set<String> {
        guard !destructive.isEmpty else { return [] }
        return Set(destructive).subtracting(try await store.existingOperationIDs(destructive))
    }

    /// Dry run: counts a record's operations into the summary; returns them packed (notices, erasures,
    /// extensions two bits each, then a new delete and a new archive copy) so a duplicate found later
    /// can be taken back out.
    func count(_ operations: [OutboxOperation], fresh: Set<String>, summary: inout SyncSummary) -> UInt8 {
        var notices = 0, erasures = 0, extensions = 0
        var delete = false, archive = false
        for operation in operations {
            switch operation.kind {
            case .notify: notices += 1
            case .eraseFields: erasures += 1
            case .extend: extensions += 1
            case .delete: if !delete, nothingQueued || fresh.contains(operation.id) { delete = true }
            case .archive: if !archive, nothingQueued || fresh.contains(operation.id) { archive = true }
            }
        }
        summary.noticesSent += notices
        summary.fieldsErased += erasures
        summary.extended += extensions
        var packed = UInt8(min(notices, 3)) | UInt8(min(erasures, 3)) << 2 | UInt8(min(extensions, 3)) << 4
        if delete {
            packed |= 64
            freshDeletes += 1
        }
        if archive {
            packed |= 128
            freshArchives += 1
        }
        return packed
    }

    func uncount(_ packed: UInt8, summary: inout SyncSummary) {
        summary.noticesSent -= Int(packed & 3)
        summary.fieldsErased -= Int(packed >> 2 & 3)
        summary.extended -= Int(packed >> 4 & 3)
        if packed & 64 != 0 { freshDeletes -= 1 }
        if packed & 128 != 0 { freshArchives -= 1 }
    }
}
