import Crypto
public import Foundation
public import RetentionCore
public import RetentionStore

/// Operator alert e-mails (`alerts:` in the config): each check finds the events operators must act
/// on and mails those not alerted yet, through a notice transport (the file outbox or SMTP).
///
/// Events, each with a key (no personal data):
/// - an approval batch waiting for approval (`approval/<connector>/<batch>`): held deletes above the
///   safety limits, or records missing from the source;
/// - a dead-lettered operation (`dead/<connector>/<operation id>`);
/// - overdue destructions of a connector (`overdue/<connector>`), counted as the dashboard counts
///   them (`AuditStore.overdueCount(connector:policy:now:)`).
///
/// Each event is alerted once: its key is claimed in the state (`AlertStore`) before the mail goes
/// out and marked sent, with an `alert.sent` audit entry, after every recipient's transport accepted
/// it. Instances sharing a state never both claim a key. A mail that fails releases its keys, and the
/// next check sends them again; a check that stopped between claiming and marking leaves claims that
/// the next check takes over after `claimLease` (at least once: such a mail may be sent twice, none
/// is lost). When an event ends — the batch is approved or rejected, the operation retried, no
/// destruction is overdue any more — its mark is forgotten, so the same key coming back is alerted
/// again (an operation retried and dead again, overdue destructions after a time without).
///
/// Grouping: when a check finds more than `digestAbove` new events, they go in one digest mail;
/// otherwise each goes in a mail of its own. Every mail goes to each recipient separately.
///
/// The mails carry counts, connector names, batch ids, operation ids and pseudonymous references,
/// and links to the dashboard when a public URL is set; never a contact's data.
public struct OperatorAlerts: Sendable {
    public struct Settings: Sendable {
        public var recipients: [String]
        public var sender: String
        public var digestAbove: Int
        /// `ko`, `en`, or both in that order.
        public var languages: [String]
        /// `LETHE_PUBLIC_URL`, for links to the dashboard; nil: no links.
        public var publicURL: String?

        public init(recipients: [String], sender: String, digestAbove: Int = 5, languages: [String] = ["ko", "en"], publicURL: String? = nil) {
            self.recipients = recipients
            self.sender = sender
            self.digestAbove = digestAbove
            self.languages = languages.isEmpty ? ["ko", "en"] : languages
            self.publicURL = publicURL.flatMap { $0.isEmpty ? nil : ($0.hasSuffix("/") ? String($0.dropLast()) : $0) }
        }
    }

    public let store: any StateStore
    public let sink: any NoticeSink
    public let settings: Settings
    /// The configured connectors and their policies (overdue destructions are counted per policy).
    public let connectors: [(name: String, policy: Policy)]
    /// Policy time: what is overdue (`--as-of` fixes it).
    public let clock: any LetheClock
    /// Real time: when marks are claimed and sent, and when a claim is stale.
    public let wallClock: any LetheClock
    public let log: LogFunction
    /// How long a claim holds before another check takes it over (its claimant stopped before sending).
    public var claimLease: TimeInterval = 600

    public init(
        store: any StateStore, sink: any NoticeSink, settings: Settings, connectors: [(name: String, policy: Policy)],
        clock: any LetheClock, wallClock: any LetheClock = SystemClock(), log: @escaping LogFunction = { _, _, _ in }
    ) {
        self.store = store
        self.sink = sink
        self.settings = settings
        self.connectors = connectors
        self.clock = clock
        self.wallClock = wallClock
        self.log = log
    }

    /// What one check did.
    public struct Report: Sendable, Equatable {
        /// New events found (claimed by this check).
        public var events = 0
        /// Mails sent (one per event or digest, whatever the number of recipients).
        public var mails = 0
        /// Mails not sent: their events are claimed again at the next check.
        public var failed = 0

        public init(events: Int = 0, mails: Int = 0, failed: Int = 0) {
            self.events = events
            self.mails = mails
            self.failed = failed
        }
    }

    /// Finds the events, forgets the marks of those that ended, and mails the new ones. Throws when
    /// the state cannot be read or written; a mail that cannot be sent is counted in `failed` and
    /// logged, its events left for the next check.
    @discardableResult
    public func check() async throws -> Report {
        let now = clock.now()
        let wall = wallClock.now()
        let staleBefore = wall.addingTimeInterval(-claimLease)
        let events = try await currentEvents(now: now)
        let current = Set(events.map(\.key))
        let configured = Set(connectors.map(\.name))
        let marks = try await store.alertMarks()
        // Only this configuration's connectors: an instance configured with fewer leaves the rest alone.
        let ended = marks.filter { !current.contains($0.key) && configured.contains(Event.connector(ofKey: $0.key)) }.map(\.key)
        try await store.forgetAlerts(ended, staleBefore: staleBefore)
        let marked = Dictionary(marks.map { ($0.key, $0) }) { first, _ in first }
        let candidates = events.filter { event in
            guard let mark = marked[event.key] else { return true }
            return mark.state == .claimed && mark.claimedAt < staleBefore
        }
        var report = Report()
        guard !candidates.isEmpty else { return report }
        let claimant = "alerts-" + UUID().uuidString.lowercased()
        let claimed = try await store.claimAlerts(candidates.map(\.key), claimant: claimant, at: wall, staleBefore: staleBefore)
        let fresh = candidates.filter { claimed.contains($0.key) }
        report.events = fresh.count
        guard !fresh.isEmpty else { return report }
        let mails = fresh.count > settings.digestAbove ? [fresh] : fresh.map { [$0] }
        for events in mails {
            let keys = events.map(\.key)
            let mail = compose(events, at: now)
            do {
                for recipient in settings.recipients {
                    _ = try await sink.deliver(notice(mail, to: recipient, keys: keys, at: wall))
                }
            } catch {
                report.failed += 1
                log(.warning, "an operator alert could not be sent; it is tried again at the next check", [
                    "kind": mail.kind, "events": String(keys.count), "code": (error as? any LetheError)?.code ?? "\(type(of: error))",
                ])
                do {
                    try await store.releaseAlerts(keys, claimant: claimant)
                } catch {
                    log(.warning, "the claims of an unsent operator alert could not be released; they are taken over after the claim lease", [
                        "kind": mail.kind, "events": String(keys.count),
                    ])
                }
                continue
            }
            var detail = ["kind": mail.kind, "events": keys.joined(separator: " "), "count": String(keys.count),
                          "recipients": String(settings.recipients.count)]
            if mail.kind == "digest" { detail["kinds"] = Set(events.map(\.kind.rawValue)).sorted().joined(separator: " ") }
            let audit = AuditDraft(at: now, event: "alert.sent", connector: events.count == 1 ? events[0].connector : nil, detail: detail)
            try await store.markAlertsSent(keys, claimant: claimant, at: wall, audit: [audit])
            report.mails += 1
            log(.info, "operator alert sent", ["kind": mail.kind, "events": String(keys.count)])
        }
        return report
    }

    /// A check whose failure is logged, not thrown (the daemon's scheduler, `lethe sync`).
    @discardableResult
    public func checkLogged() async -> Report? {
        do {
            return try await check()
        } catch {
            log(.error, "operator alerts could not be checked", ["code": (error as? any LetheError)?.code ?? "\(type(of: error))"])
            return nil
        }
    }

    // MARK: Events

    /// One thing operators must act on.
    public struct Event: Sendable, Equatable {
        public enum Kind: String, Sendable, CaseIterable { case approval, dead, overdue }
        public var kind: Kind
        public var connector: String
        /// The approval batch, the dead operation's id; empty for overdue destructions.
        public var subject: String
        /// Deletes waiting in the batch; overdue records.
        public var count: Int
        /// Records missing from the source waiting in the batch.
        public var missing = 0
        /// The dead operation's kind and its record's pseudonymous reference.
        public var operationKind = ""
        public var reference = ""

        public var key: String {
            kind == .overdue ? "overdue/\(connector)" : "\(kind.rawValue)/\(connector)/\(subject)"
        }

        static func connector(ofKey key: String) -> String {
            let parts = key.split(separator: "/", maxSplits: 2)
            return parts.count > 1 ? String(parts[1]) : ""
        }
    }

    /// Every event now: open batches, dead operations and overdue destructions of the configured
    /// connectors, in that order (connectors by name).
    public func currentEvents(now: Date) async throws -> [Event] {
        let names = Set(connectors.map(\.name))
        var events: [Event] = []
        let batches = try await store.approvalBatches()
            .filter { $0.status == .open && names.contains($0.connector) && ($0.operationCount > 0 || $0.missingRecords > 0) }
            .sorted { ($0.connector, $0.createdAt, $0.id) < ($1.connector, $1.createdAt, $1.id) }
        for batch in batches {
            events.append(Event(kind: .approval, connector: batch.connector, subject: batch.id, count: batch.deletes, missing: batch.missingRecords))
        }
        let ordered = connectors.sorted { $0.name < $1.name }
        for connector in ordered {
            for operation in try await store.operations(connector: connector.name, statuses: [.dead]) {
                events.append(Event(
                    kind: .dead, connector: connector.name, subject: operation.id, count: 1, operationKind: operation.kind.rawValue,
                    reference: operation.reference))
            }
        }
        for connector in ordered {
            let overdue = try await store.overdueCount(connector: connector.name, policy: connector.policy, now: now)
            if overdue > 0 { events.append(Event(kind: .overdue, connector: connector.name, subject: "", count: overdue)) }
        }
        return events
    }

    // MARK: Mails

    struct Mail: Equatable {
        /// `approval`, `dead`, `overdue` or `digest`.
        var kind: String
        var subject: String
        var body: String
    }

    /// At most this many events of one kind are listed in a digest; the rest are counted.
    static let digestLines = 100

    func compose(_ events: [Event], at now: Date) -> Mail {
        let languages = settings.languages
        let kind = events.count == 1 ? events[0].kind.rawValue : "digest"
        let subjects = languages.map { language in
            events.count == 1 ? AlertWords.single(events[0], language) : AlertWords.digest(events.count, language)
        }
        var sections: [String] = []
        for language in languages {
            var lines = [AlertWords.heading(language, at: now), ""]
            for group in Event.Kind.allCases {
                let members = events.filter { $0.kind == group }
                guard !members.isEmpty else { continue }
                if events.count > 1 { lines.append(AlertWords.groupTitle(group, members.count, language)) }
                for event in members.prefix(Self.digestLines) { lines.append("- " + AlertWords.line(event, language)) }
                if members.count > Self.digestLines { lines.append(AlertWords.more(members.count - Self.digestLines, language)) }
                if let link = link(group) { lines.append("  " + link) }
                lines.append("")
            }
            lines.append(AlertWords.footer(language))
            sections.append(lines.joined(separator: "\n"))
        }
        return Mail(kind: kind, subject: "[Lethe] " + subjects.joined(separator: " / "), body: sections.joined(separator: "\n\n----\n\n") + "\n")
    }

    func link(_ kind: Event.Kind) -> String? {
        guard let base = settings.publicURL else { return nil }
        switch kind {
        case .approval: return base + "/approvals"
        case .dead: return base + "/dead"
        case .overdue: return base + "/#s-overdue"
        }
    }

    /// One recipient's copy. Its id (the file name of the file outbox, the Message-ID's left part)
    /// is derived from the events and the recipient: a mail sent again after a failure is the same message.
    func notice(_ mail: Mail, to recipient: String, keys: [String], at date: Date) -> Notice {
        let digest = SHA256.hash(data: Data((keys.joined(separator: "\n") + "\u{1F}" + recipient).utf8))
        let id = "alert-" + digest.prefix(12).map { String(format: "%02x", $0) }.joined()
        return Notice(
            operationID: id, recipient: recipient, recipientName: nil, sender: settings.sender, subject: mail.subject, textBody: mail.body,
            date: date, headers: ["Auto-Submitted": "auto-generated", "X-Lethe-Alert": mail.kind])
    }
}

/// The words of alert mails, in Korean and English (the dashboard's terms).
enum AlertWords {
    static func single(_ event: OperatorAlerts.Event, _ language: String) -> String {
        let ko = language == "ko"
        switch event.kind {
        case .approval: return ko ? "파기 승인 대기: \(event.subject)" : "Awaiting approval: \(event.subject)"
        case .dead: return ko ? "실패한 작업: \(event.connector) \(event.subject)" : "Dead operation: \(event.connector) \(event.subject)"
        case .overdue: return ko ? "기한을 넘긴 파기: \(event.connector) \(event.count)건" : "Overdue destructions: \(event.connector) (\(event.count))"
        }
    }

    static func digest(_ count: Int, _ language: String) -> String {
        language == "ko" ? "운영 알림 \(count)건" : "\(count) operator alerts"
    }

    static func heading(_ language: String, at now: Date) -> String {
        let time = ISO8601DateFormatter.string(from: now, timeZone: TimeZone(identifier: "UTC")!, formatOptions: [.withInternetDateTime])
        return language == "ko" ? "Lethe 운영 알림 (\(time) 기준)" : "Lethe operator alert (as of \(time))"
    }

    static func groupTitle(_ kind: OperatorAlerts.Event.Kind, _ count: Int, _ language: String) -> String {
        let ko = language == "ko"
        switch kind {
        case .approval: return ko ? "승인 대기 묶음 \(count)개:" : "\(count) batches awaiting approval:"
        case .dead: return ko ? "실패한 작업 \(count)건:" : "\(count) dead operations:"
        case .overdue: return ko ? "기한을 넘긴 파기가 있는 커넥터 \(count)개:" : "\(count) connectors with overdue destructions:"
        }
    }

    static func line(_ event: OperatorAlerts.Event, _ language: String) -> String {
        let ko = language == "ko"
        switch event.kind {
        case .approval:
            var text = ko
                ? "\(event.connector): 묶음 \(event.subject), 삭제 \(event.count)건이 승인을 기다립니다"
                : "\(event.connector): batch \(event.subject), \(event.count) deletes wait for approval"
            if event.missing > 0 {
                text += ko ? ", 원본에서 사라진 레코드 \(event.missing)건" : ", \(event.missing) records missing from the source"
            }
            return text + (ko ? " (lethe approve \(event.subject))" : " (lethe approve \(event.subject))")
        case .dead:
            return ko
                ? "\(event.connector): \(event.operationKind) 작업 \(event.subject) (레코드 \(event.reference))이 모든 재시도에 실패했습니다"
                : "\(event.connector): \(event.operationKind) operation \(event.subject) (record \(event.reference)) failed every attempt"
        case .overdue:
            return ko
                ? "\(event.connector): 파기 기한을 넘긴 레코드 \(event.count)건"
                : "\(event.connector): \(event.count) records are past their destruction deadline"
        }
    }

    static func more(_ count: Int, _ language: String) -> String {
        language == "ko" ? "- … 외 \(count)건 (대시보드에서 확인하세요)" : "- … and \(count) more (see the dashboard)"
    }

    static func footer(_ language: String) -> String {
        language == "ko"
            ? "이 알림은 한 번만 보냅니다. 상황이 해소된 뒤 다시 생기면 다시 알립니다."
            : "Each event is alerted once; if it ends and comes back, it is alerted again."
    }
}
