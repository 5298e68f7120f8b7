import Foundation
import RetentionCore
import RetentionStore

/// Executes a connector's pending operations until each is done, dead or waiting for approval.
///
/// Every operation is already durable in the outbox; executing it again after a crash is safe because
/// every sink and writer is idempotent per operation. Deletes are re-checked against a fresh read of
/// the source right before they are applied.
///
/// Several executors may share a connector's outbox (hub instances on one state): each claims a
/// page's due operations before it executes them (`OutboxClaimStore`) and executes only those it got,
/// so no operation is executed by two of them at once; what another one holds is left to it.
struct OutboxExecutor {
    var store: any StateStore
    var sinks: SinkSet
    var clock: any LetheClock
    var log: LogFunction
    var retry: RetryPolicy
    var chunks = ExecutionChunks()
    /// Who this executor's claims name: one random token per process.
    var claimant = OutboxClaims.processClaimant
    /// How long a claim lasts; renewed every third of it while its page executes. Short: the claims
    /// of an executor that died (killed, its host gone) hold its operations back until they lapse.
    var claimLease: Duration = .seconds(30)
    /// How soon a pass whose due operations another executor holds looks at them again.
    var claimPoll: Duration = .seconds(1)

    /// Executes the connector's pending operations; the claims this executor still holds when it
    /// ends (operations left waiting, or a run that stopped) are given up, so another executor need
    /// not wait for them to expire.
    func drain(_ connector: ConnectorRuntime, summary: inout SyncSummary) async throws {
        do {
            try await drainClaimed(connector, summary: &summary)
        } catch {
            _ = try? await store.releaseClaims(connector: connector.name, by: claimant, now: Date())
            throw error
        }
        try await store.releaseClaims(connector: connector.name, by: claimant, now: Date())
    }

    private func drainClaimed(_ connector: ConnectorRuntime, summary: inout SyncSummary) async throws {
        let deadline = ContinuousClock.now + retry.runDeadline
        try await releaseEndedClaims(connector.name)
        let operators = try await approvers()
        // Attempts each operation had before this run (only those that failed before are listed):
        // one run tries an operation at most `attemptsPerRun` times.
        var attemptsBefore: [String: Int]?
        var leftForLaterRuns = 0
        var lastClaimedElsewhere = 0
        while true {
            // One pass over the pending operations, a page at a time (bounded memory, whatever their number).
            var executed = false
            var waiting: [Date] = []
            var tiredOut = 0
            // Due deletes that wait on another operation (their archive copy): not progress, so a pass
            // of nothing else sleeps or ends instead of running again at once.
            var blocked = 0
            // Due operations another executor holds a claim on: it executes them; this one looks again soon.
            var claimedElsewhere = 0
            var after: Int64 = 0
            var firstPass: [String: Int] = [:]
            while true {
                var page = try await store.operations(connector: connector.name, statuses: [.pending], after: after, limit: chunks.write)
                guard let last = page.last else { break }
                after = last.position
                let lastPage = page.count < chunks.write
                if attemptsBefore == nil {
                    for operation in page where operation.attempts > 0 { firstPass[operation.id] = operation.attempts }
                }
                let wallNow = Date()
                let syncNow = clock.now()
                var due: [OutboxOperation] = []
                for operation in page {
                    let next = operation.nextAttemptAt ?? .distantPast
                    // Notices deferred past quiet hours wait for a later run (by the sync's clock); they are not failures.
                    if Self.isDeferred(operation) {
                        if next <= syncNow { due.append(operation) }
                    } else if operation.attempts - ((attemptsBefore ?? firstPass)[operation.id] ?? 0) >= retry.attemptsPerRun {
                        tiredOut += 1
                    } else if next <= wallNow {
                        due.append(operation)
                    } else {
                        waiting.append(next)
                    }
                }
                // The page is dropped before its operations run: a large page is not held twice.
                page = []
                if !due.isEmpty {
                    // One statement claims the page's due operations; only those claimed are executed.
                    let claimed = try await store.claim(
                        connector: connector.name, positions: due.map(\.position), by: claimant,
                        until: Date().addingTimeInterval(Self.seconds(claimLease)), now: Date())
                    if claimed.count < due.count {
                        let before = due.count
                        due.removeAll { !claimed.contains($0.position) }
                        claimedElsewhere += before - due.count
                    }
                }
                if !due.isEmpty {
                    let count = due.count
                    // Every operation (and its claim) is on disk before anything is done about it.
                    try await store.makeDurable()
                    let renewal = renewClaims(due.map(\.position), connector: connector.name)
                    defer { renewal.cancel() }
                    let waitingOnOthers = try await execute(&due, connector: connector, operators: operators, summary: &summary)
                    // What the page's execution freed goes back to the system before the next page grows.
                    ReleasedMemory.trim()
                    blocked += waitingOnOthers
                    if waitingOnOthers < count { executed = true }
                }
                if lastPage { break }
            }
            if attemptsBefore == nil { attemptsBefore = firstPass }
            if executed { continue }
            leftForLaterRuns = tiredOut + waiting.count + blocked + claimedElsewhere
            lastClaimedElsewhere = claimedElsewhere
            // Operations another executor holds are looked at again soon: by then they are done (and
            // gone from the pending), or their claim has lapsed and this executor takes them over.
            if claimedElsewhere > 0 {
                try await releaseEndedClaims(connector.name)
                waiting.append(Date().addingTimeInterval(Self.seconds(claimPoll)))
            }
            guard let earliest = waiting.min() else { break }
            let wait = Duration.milliseconds(Int64(max(earliest.timeIntervalSince(Date()), 0) * 1000) + 1)
            // Past the run's deadline the failing operations stay pending, with their attempts
            // counted, for the next run: a CRM outage delays enforcement, it does not end it.
            if ContinuousClock.now + wait > deadline { break }
            try await Task.sleep(for: wait)
        }
        // The last drain of a run has the final word.
        summary.pending = leftForLaterRuns
        if leftForLaterRuns > lastClaimedElsewhere {
            log(.warning, "operations still failing stay pending for the next run", [
                "connector": connector.name, "pending": String(leftForLaterRuns - lastClaimedElsewhere),
            ])
        }
        if lastClaimedElsewhere > 0 {
            log(.info, "operations claimed by another executor were left to it", [
                "connector": connector.name, "claimed": String(lastClaimedElsewhere),
            ])
        }
        let waiting = try await store.awaitingDeletes(connector: connector.name)
        summary.awaitingApproval = waiting.count
        if waiting.count > 0 { summary.approvalBatch = summary.approvalBatch ?? waiting.batch }
    }

    /// Claims left by a process of this machine that has ended (killed, crashed) are given up now
    /// rather than left to lapse: its operations go on at once. Others' claims are left to lapse.
    private func releaseEndedClaims(_ connector: String) async throws {
        let now = Date()
        for other in try await store.claimants(connector: connector, now: now) where OutboxClaims.endedHere(other, current: claimant) {
            let count = try await store.releaseClaims(connector: connector, by: other, now: now)
            log(.info, "claims of a process that ended were given up", ["connector": connector, "claims": String(count)])
        }
    }

    /// Renews this executor's claims on `positions` every third of the lease while a page executes
    /// (a page of slow writes may outlast one lease). Cancelled when the page is done.
    private func renewClaims(_ positions: [Int64], connector: String) -> Task<Void, Never> {
        let store = store, claimant = claimant, lease = claimLease, log = log
        return Task {
            while true {
                do { try await Task.sleep(for: lease / 3) } catch { return }
                do {
                    _ = try await store.claim(
                        connector: connector, positions: positions, by: claimant, until: Date().addingTimeInterval(Self.seconds(lease)), now: Date())
                } catch {
                    log(.warning, "claims on executing operations could not be renewed", ["connector": connector])
                }
            }
        }
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    private func approvers() async throws -> [String: String] {
        var result: [String: String] = [:]
        for batch in try await store.approvalBatches() {
            if let by = batch.approvedBy { result[batch.id] = by }
        }
        return result
    }

    /// Takes the operations out of `due` (it is left empty), so a large run holds one copy of them.
    /// Returns how many of them it left as they were, waiting on another operation.
    private func execute(_ due: inout [OutboxOperation], connector: ConnectorRuntime, operators: [String: String], summary: inout SyncSummary) async throws -> Int {
        // A hold placed after an operation was queued stops it; lifting the hold lets the next
        // evaluation revive the same operation id.
        // A run whose lock broke stops before it acts again (another run may hold the lock now).
        try RunLease.checkCurrent()
        let held = try await store.heldReferences(connector: connector.name)
        var notices: [OutboxOperation] = []
        var archives: [OutboxOperation] = []
        var extensions: [OutboxOperation] = []
        var erasures: [OutboxOperation] = []
        var deletes: [OutboxOperation] = []
        for operation in due {
            if held.contains(operation.reference) {
                try await cancel(operation, reason: "the record is on legal hold", summary: &summary)
                continue
            }
            switch operation.kind {
            case .notify: notices.append(operation)
            case .archive: archives.append(operation)
            case .extend: extensions.append(operation)
            case .eraseFields: erasures.append(operation)
            case .delete: deletes.append(operation)
            }
        }
        due = []
        var lap = ContinuousClock.now
        var timings = ["notices": String(notices.count), "archives": String(archives.count), "writes": String(extensions.count + erasures.count + deletes.count)]
        /// Seconds since the previous lap, under `name` (the log says where an execution's time went).
        func time(_ name: String) {
            let now = ContinuousClock.now
            let elapsed = now - lap
            timings[name] = String(format: "%.2f", Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
            lap = now
        }
        defer { log(.info, "operations executed", timings.merging(["connector": connector.name]) { $1 }) }
        // What a notice needs (address, name, locale, zone) is read from the source now: the state keeps none of it.
        // One re-read per chunk (a CSV scans its file once per call), then one delivery per chunk.
        for start in stride(from: 0, to: notices.count, by: chunks.recheck) {
            let chunk = Array(notices[start..<min(start + chunks.recheck, notices.count)])
            let records = try await reread(chunk, connector: connector, summary: &summary)
            let stored = try await store.records(connector: connector.name, references: chunk.map(\.reference))
            time("noticeReadSeconds")
            var drafts: [NoticeDraft] = []
            for operation in chunk {
                if let draft = try await prepareNotice(
                    operation, record: records.map { $0[operation.recordID ?? ""] }, stored: stored[operation.reference], connector: connector, summary: &summary)
                {
                    drafts.append(draft)
                }
            }
            // Rendered and delivered a thousand at a time: bounded memory, both cores rendering.
            for part in stride(from: 0, to: drafts.count, by: 1000) {
                var ready: [(operation: OutboxOperation, notice: Notice)] = []
                for (draft, rendered) in await render(Array(drafts[part..<min(part + 1000, drafts.count)])) {
                    switch rendered {
                    case .success(let notice): ready.append((draft.operation, notice))
                    case .failure(let error): try await fail(draft.operation, error: error, summary: &summary)
                    }
                }
                try RunLease.checkCurrent()
                try await deliver(ready, summary: &summary)
            }
            time("noticeSeconds")
        }
        if !archives.isEmpty {
            try RunLease.checkCurrent()
            try await archive(archives, connector: connector, summary: &summary)
        }
        time("archiveSeconds")
        // Extensions before erasures, as the kinds' order says; then the deletes still due at the re-check.
        var writes = extensions + erasures
        extensions = []
        erasures = []
        var blocked = 0
        try await recheckDeletes(&deletes, into: &writes, connector: connector, operators: operators, blocked: &blocked, summary: &summary)
        time("recheckSeconds")
        guard !writes.isEmpty else { return blocked }
        guard let writer = connector.writer else {
            for operation in writes {
                try await deadLetter(operation, error: "connector '\(connector.name)' cannot write back", summary: &summary)
            }
            return blocked
        }
        let requests = writes.map { WriteOperation(id: $0.id, kind: $0.kind, recordID: $0.recordID ?? "", fields: $0.fields) }
        let outcomes: [OperationOutcome]
        try RunLease.checkCurrent()
        do {
            outcomes = try await writer.apply(requests)
            time("applySeconds")
        } catch {
            for operation in writes { try await fail(operation, error: error, summary: &summary) }
            return blocked
        }
        // Recorded a few thousand at a time: bounded memory and transactions. A crash in between
        // leaves the rest pending, and re-applying them is idempotent. A chunk's completions are
        // prepared (its records read, its audit details built) while the previous chunk's are written.
        var done: [(operation: OutboxOperation, receipt: String, deletion: DeletionReceipt?)] = []
        done.reserveCapacity(min(writes.count, chunks.completion))
        var writing: Task<Void, any Error>?
        do {
            for (operation, outcome) in zip(writes, outcomes) {
                switch outcome {
                case .applied(let detail):
                    done.append((operation, detail, operation.kind == .delete ? DeletionReceipt(mode: .permanent) : nil))
                case .deleted(let receipt): done.append((operation, "deleted (\(receipt.mode.rawValue))", receipt))
                case .alreadyGone: done.append((operation, "already gone", nil))
                case .failed(let failure): try await fail(operation, error: failure, summary: &summary)
                }
                if done.count >= chunks.completion {
                    writing = try await record(done, after: writing, connector: connector, operators: operators, summary: &summary)
                    done.removeAll(keepingCapacity: true)
                }
            }
            writing = try await record(done, after: writing, connector: connector, operators: operators, summary: &summary)
            try await writing?.value
        } catch {
            // Nothing is left writing once the execution ends, even when it ends in an error.
            _ = try? await writing?.value
            throw error
        }
        time("recordSeconds")
        return blocked
    }

    /// Prepares the completions of `done`, waits for `previous` (the write of the chunk before), and
    /// starts writing them; returns that write.
    private func record(
        _ done: [(operation: OutboxOperation, receipt: String, deletion: DeletionReceipt?)], after previous: Task<Void, any Error>?,
        connector: ConnectorRuntime, operators: [String: String], summary: inout SyncSummary
    ) async throws -> Task<Void, any Error>? {
        guard !done.isEmpty else { return previous }
        let records = try await store.records(connector: connector.name, references: done.map(\.operation.reference))
        let completions = done.map { item in
            finish(item.operation, policy: connector.policy, record: records[item.operation.reference], receipt: item.receipt,
                   deletion: item.deletion, operators: operators, summary: &summary)
        }
        try await previous?.value
        let store = store
        return Task { try await store.complete(completions) }
    }

    // MARK: Notices and archive

    /// The current source rows of these operations' records, by id; nil when the source could not be
    /// read (every operation then fails with that error, and is retried).
    private func reread(_ operations: [OutboxOperation], connector: ConnectorRuntime, summary: inout SyncSummary) async throws -> [String: SourceRecord]? {
        let ids = Array(Set(operations.compactMap(\.recordID)))
        guard !ids.isEmpty else { return [:] }
        do {
            var rows: [String: SourceRecord] = [:]
            for record in try await connector.source.read(ids: ids) where rows[record.id] == nil { rows[record.id] = record }
            return rows
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            for operation in operations { try await fail(operation, error: error, summary: &summary) }
            return nil
        }
    }

    /// Renders drafts into notices, the two halves at once (rendering is pure), in the drafts' order.
    private func render(_ drafts: [NoticeDraft]) async -> [(NoticeDraft, Result<Notice, any Error>)] {
        let renderer = sinks.renderer
        let sender = sinks.sender
        let half = max(1, (drafts.count + 1) / 2)
        let parts = await withTaskGroup(of: (Int, [Result<Notice, any Error>]).self) { group in
            for start in stride(from: 0, to: drafts.count, by: half) {
                group.addTask {
                    (start, drafts[start..<min(start + half, drafts.count)].map { draft in Result { try draft.render(renderer, sender: sender) } })
                }
            }
            var parts: [(Int, [Result<Notice, any Error>])] = []
            for await part in group { parts.append(part) }
            return parts.sorted { $0.0 < $1.0 }.flatMap(\.1)
        }
        return Array(zip(drafts, parts))
    }

    /// Delivers rendered notices (many with one durability step when the transport can) and records
    /// their completions a chunk at a time; a transport's failure fails only its notice.
    private func deliver(_ ready: [(operation: OutboxOperation, notice: Notice)], summary: inout SyncSummary) async throws {
        guard let sink = sinks.notices, !ready.isEmpty else { return }
        let results: [Result<String, any Error>]
        if let batching = sink as? any BatchingNoticeSink {
            results = await batching.deliver(ready.map(\.notice))
        } else {
            var one: [Result<String, any Error>] = []
            for item in ready {
                do { one.append(.success(try await sink.deliver(item.notice))) } catch { one.append(.failure(error)) }
            }
            results = one
        }
        var completions: [OperationCompletion] = []
        for (item, result) in zip(ready, results) {
            switch result {
            case .success(let receipt):
                completions.append(doneCompletion(item.operation, receipt: receipt, effect: .none, detail: ["kind": "notify", "receipt": receipt]))
                summary.noticesSent += 1
            case .failure(let error):
                if error is CancellationError { throw error }
                try await fail(item.operation, error: error, summary: &summary)
            }
            if completions.count >= chunks.completion {
                try await store.complete(completions)
                completions.removeAll(keepingCapacity: true)
            }
        }
        try await store.complete(completions)
    }

    /// The notice of an operation, rendered from the record as the source has it now; nil when it is
    /// not to be sent now (cancelled, deferred to the end of quiet hours, or failed: recorded here).
    private func prepareNotice(
        _ operation: OutboxOperation, record fresh: SourceRecord??, stored: StoredRecord?, connector: ConnectorRuntime, summary: inout SyncSummary
    ) async throws -> NoticeDraft? {
        guard sinks.notices != nil else {
            try await deadLetter(operation, error: "no mail transport is configured", summary: &summary)
            return nil
        }
        // The source could not be read: the failure is recorded already; the notice waits for a retry.
        guard case .some(let row) = fresh else { return nil }
        let policy = connector.policy
        let kind = Policy.noticeKind(fields: operation.fields)
        let rule = policy.rule(named: operation.rule)
        guard let stored, stored.recordID != nil, let record = row, let email = record.value(policy.fields.email)
        else {
            try await cancel(operation, reason: "the record or its email address is gone", summary: &summary)
            return nil
        }
        // Quiet hours are the recipient's: their own zone when the record names a known one.
        let quietHours = kind == .reconfirm ? rule?.reconfirm?.quietHours : rule?.notice?.quietHours
        let recipientZone = record.value(policy.fields.timeZone).flatMap(TimeZone.init(identifier:)) ?? policy.zone
        if let quiet = quietHours, let until = quiet.end(ifInside: clock.now(), zone: recipientZone) {
            try await deferNotice(operation, until: until)
            return nil
        }
        let formatter = dayFormatter(policy.zone)
        var values = [
            "name": record.value(policy.fields.name) ?? "",
            "expiry": formatter.string(from: operation.cycle),
            "purpose": operation.rule,
            "legal_basis": rule?.legalBasis ?? "",
            "fields": rule?.erase.map(\.field).joined(separator: ", ") ?? "",
            "sender": sinks.sender,
        ]
        // Extension links are valid until the expiry they are about (after it, the decision no
        // longer matters); re-confirmation links until the next cycle.
        var validUntil = operation.cycle
        if kind == .reconfirm, let rule, let reconfirm = rule.reconfirm {
            // 시행령 제62조의3: the consent date and how to keep or withdraw it.
            values["expiry"] = stored.state?.rules[operation.rule].map { formatter.string(from: $0.expiry) } ?? ""
            values["confirm_by"] = formatter.string(from: operation.cycle)
            values["consented_at"] = policy.reconfirmationBase(rule: rule, in: record).map(formatter.string(from:)) ?? ""
            validUntil = reconfirm.next(after: operation.cycle, zone: policy.zone)
        }
        if let links = sinks.links {
            for action in ConsentAction.actions(for: kind) {
                values["\(action.rawValue)_link"] = links.link(ConsentToken(
                    connector: connector.name, reference: operation.reference, rule: operation.rule, cycle: operation.cycle,
                    action: action, validUntil: validUntil))
            }
        }
        if let decision = operation.fields.first(where: { $0.field == Policy.noticeDecisionField })?.value {
            // A result notice: {{decision}}, {{#extended}} / {{#declined}} / {{#kept}} / {{#withdrawn}} / {{#consented}}, {{decided_at}}.
            values["decision"] = decision
            values["extended"] = decision == ConsentAction.extend.rawValue ? "yes" : ""
            values["declined"] = decision == ConsentAction.decline.rawValue ? "yes" : ""
            values["kept"] = decision == ConsentAction.keep.rawValue ? "yes" : ""
            // `withdraw`: at a re-confirmation, or in the source; `consent`: given in the source.
            values["withdrawn"] = decision == ConsentAction.withdraw.rawValue ? "yes" : ""
            values["consented"] = decision == "consent" ? "yes" : ""
            values["decided_at"] = formatter.string(from: operation.cycle)
        }
        let template = operation.fields.first { $0.field == Policy.noticeTemplateField }?.value ?? rule?.notice?.template ?? operation.rule
        return NoticeDraft(
            operation: operation, template: template, locale: record.value(policy.fields.locale), values: values, kind: kind,
            recipient: email, recipientName: record.value(policy.fields.name), date: clock.now())

    }

    private func archive(_ operations: [OutboxOperation], connector: ConnectorRuntime, summary: inout SyncSummary) async throws {
        guard let sink = sinks.archive else {
            for operation in operations {
                try await deadLetter(operation, error: "no archive is configured", summary: &summary)
            }
            return
        }
        // The copy is made from the source as it is now (the state keeps no field value).
        guard let rows = try await reread(operations, connector: connector, summary: &summary) else { return }
        for operation in operations {
            guard let stored = try await store.record(connector: connector.name, reference: operation.reference),
                let recordID = stored.recordID, let record = rows[recordID]
            else {
                try await cancel(operation, reason: "the record is gone", summary: &summary)
                continue
            }
            let entry = ArchiveEntry(
                operationID: operation.id, connector: connector.name, recordID: recordID, reference: operation.reference,
                fields: record.fields, rules: stored.state.map { $0.rules.keys.sorted() } ?? [], archivedAt: clock.now()
            )
            do {
                let receipt = try await sink.archive([entry])
                try await complete(operation, receipt: receipt, effect: .none, detail: ["kind": "archive", "receipt": receipt])
                summary.archived += 1
            } catch {
                try await fail(operation, error: error, summary: &summary)
            }
        }
    }
}

extension OutboxExecutor {
    /// `yyyy-MM-dd` in `zone`; formatters are costly to make and this runs for every notice.
    func dayFormatter(_ zone: TimeZone) -> DateFormatter {
        DayFormatters.shared.formatter(zone)
    }
}

/// One `yyyy-MM-dd` formatter per zone, shared (`DateFormatter` is thread-safe for formatting).
final class DayFormatters: @unchecked Sendable {
    static let shared = DayFormatters()
    private let lock = NSLock()
    private var formatters: [String: DateFormatter] = [:]

    func formatter(_ zone: TimeZone) -> DateFormatter {
        lock.withLock {
            if let known = formatters[zone.identifier] { return known }
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = zone
            formatter.dateFormat = "yyyy-MM-dd"
            formatters[zone.identifier] = formatter
            return formatter
        }
    }
}

/// A notice with everything read from the source and the state, not rendered yet.
struct NoticeDraft: Sendable {
    var operation: OutboxOperation
    var template: String
    var locale: String?
    var values: [String: String]
    var kind: NoticeKind
    var recipient: String
    var recipientName: String?
    var date: Date

    func render(_ renderer: NoticeRenderer, sender: String) throws -> Notice {
        let rendered = try renderer.render(template: template, locale: locale, values: values, kind: kind)
        return Notice(
            operationID: operation.id, recipient: recipient, recipientName: recipientName,
            sender: sender, subject: rendered.subject, textBody: rendered.body, htmlBody: rendered.html, date: date,
            headers: OutboxExecutor.unsubscribeHeaders(declineLink: values["decline_link"] ?? values["withdraw_link"], sender: sender))
    }
}
