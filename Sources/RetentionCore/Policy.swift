public import Foundation

/// A retention policy: purposes with their periods, what happens at expiry, and how the fields of a
/// record are read. Loaded from YAML by LetheConfig (`config/policies/kr-pipa.yaml`).
public struct Policy: Sendable, Equatable {
    public var name: String
    /// Every period, notice window and "now" is computed on the calendar of this zone.
    public var zone: TimeZone
    /// Destruction is overdue this long after expiry (PIPA "without delay", applied as 5 days).
    public var destroyWithin: Period
    public var fields: PolicyFields
    /// Separator of the multi-valued purpose field.
    public var purposeSeparator: String
    /// One rule per purpose, by purpose name.
    public var rules: [RetentionRule]
    /// What happens to the record once no rule requires it any more.
    public var action: RecordAction

    public init(
        name: String,
        zone: TimeZone,
        destroyWithin: Period = Period(days: 5),
        fields: PolicyFields = PolicyFields(),
        purposeSeparator: String = ";",
        rules: [RetentionRule],
        action: RecordAction = .delete
    ) {
        self.name = name
        self.zone = zone
        self.destroyWithin = destroyWithin
        self.fields = fields
        self.purposeSeparator = purposeSeparator
        self.rules = rules
        self.action = action
    }

    public func rule(named name: String) -> RetentionRule? {
        rules.first { $0.name == name }
    }

    /// A field this policy may write back to a source, and when.
    public struct WrittenField: Sendable, Equatable {
        public var field: String
        public var reason: String
    }

    /// Every field an operation of this policy may write (erasures, accepted extensions, declines
    /// and re-confirmation decisions), each once, with the first reason found.
    public var writtenFields: [WrittenField] {
        var written: [WrittenField] = []
        func add(_ field: String, _ reason: String) {
            if !written.contains(where: { $0.field == field }) { written.append(WrittenField(field: field, reason: reason)) }
        }
        for rule in rules {
            for erased in rule.erase { add(erased.field, "erased when '\(rule.name)' expires") }
            if let notice = rule.notice {
                if let basis = rule.extensionField(createdAt: fields.createdAt) { add(basis, "written when a '\(rule.name)' extension is accepted") }
                if let consent = notice.requiresConsentField { add(consent, "written when a '\(rule.name)' extension is accepted or declined") }
            }
            if let reconfirm = rule.reconfirm {
                add(reconfirm.consentField, "written when '\(rule.name)' consent is withdrawn at a re-confirmation")
                if let confirmed = reconfirm.confirmedAtField { add(confirmed, "written when '\(rule.name)' consent is kept at a re-confirmation") }
            }
        }
        return written
    }
}

/// The canonical field names a policy reads.
public struct PolicyFields: Sendable, Equatable {
    public var createdAt: String
    public var purposes: String
    public var email: String
    public var name: String
    public var consent: String
    public var locale: String
    /// The recipient's IANA time zone (`Asia/Seoul`, `America/Los_Angeles`) for quiet hours; empty or
    /// unknown: the policy's zone.
    public var timeZone: String

    public init(
        createdAt: String = "created_at",
        purposes: String = "purpose",
        email: String = "email",
        name: String = "name",
        consent: String = "marketing_consent",
        locale: String = "locale",
        timeZone: String = "time_zone"
    ) {
        self.createdAt = createdAt
        self.purposes = purposes
        self.email = email
        self.name = name
        self.consent = consent
        self.locale = locale
        self.timeZone = timeZone
    }
}

/// What a record's final expiry does.
public enum RecordAction: String, Sendable, Equatable, Codable {
    case delete
    /// Copy to separated storage (PIPA Art. 21(3)), then delete from the source.
    case archiveThenDelete = "archive-then-delete"
}

/// The retention of one purpose.
public struct RetentionRule: Sendable, Equatable {
    /// The purpose token that selects this rule (`payment`, `marketing`).
    public var name: String
    public var period: Period
    /// Date fields the period runs from; the latest non-empty one counts. `created_at` is the
    /// collection date; `consent_extended_at` is a renewal.
    public var basis: [String]
    /// Fields this purpose alone needs, and the value each takes when erased. When this rule
    /// expires while another still keeps the record, these are erased instead of deleting.
    public var erase: [ErasedField]
    public var notice: NoticeRule?
    /// The law or reason behind the period, for the destruction register.
    public var legalBasis: String
    /// Opt-in (`endsWithoutConsent: marketing_consent`): while this consent field does not read yes,
    /// the purpose's period is over — consent withdrawn before expiry erases or deletes without
    /// waiting. The expiry is then the start of the period (a fixed past instant, so the same
    /// operation is decided on every run). Off in the shipped kr-pipa policy.
    public var endsWithoutConsent: String? = nil
    /// Opt-in: the periodic re-confirmation of the consent this purpose runs on (정보통신망법 제50조
    /// 제8항: advertising consent is confirmed every 2 years from the consent date). Never deletes.
    /// Off in the shipped kr-pipa policy, whose extension notice already asks before the 2-year expiry.
    public var reconfirm: ReconfirmRule? = nil

    public init(
        name: String,
        period: Period,
        basis: [String] = ["created_at"],
        erase: [ErasedField] = [],
        notice: NoticeRule? = nil,
        legalBasis: String = ""
    ) {
        self.name = name
        self.period = period
        self.basis = basis
        self.erase = erase
        self.notice = notice
        self.legalBasis = legalBasis
    }
}

extension RetentionRule {
    /// The basis field an accepted extension writes its consent date to: the first after the creation
    /// date, for rules with a notice (nil otherwise).
    public func extensionField(createdAt: String) -> String? {
        guard notice != nil else { return nil }
        return basis.first { $0 != createdAt }
    }

    /// Whether the re-confirmation `cycle` is to be asked: not yet noticed (`noticedFor` is the cycle
    /// noticed last) and before the extension notice's window (that notice asks the same question, or
    /// the data goes at `expiry`).
    public func asksReconfirmation(cycle: Date, expiry: Date, noticedFor: Date?) -> Bool {
        guard reconfirm != nil, noticedFor.map({ $0 < cycle }) ?? true else { return false }
        return cycle < expiry.addingTimeInterval(-(notice?.lead.approximateSeconds ?? 0))
    }

    /// The consent field whose changes in the source this rule reports, and the template it uses: the
    /// extension notice's, else the re-confirmation's (nil when neither opts in).
    public var sourceChangeResult: (field: String, template: String)? {
        if let notice, notice.resultForSourceChanges, let field = notice.requiresConsentField, let template = notice.resultTemplate {
            return (field, template)
        }
        if let reconfirm, reconfirm.resultForSourceChanges, let template = reconfirm.resultTemplate {
            return (reconfirm.consentField, template)
        }
        return nil
    }
}

public struct ErasedField: Sendable, Hashable, Codable {
    public var field: String
    public var value: String

    public init(field: String, value: String) {
        self.field = field
        self.value = value
    }
}

/// An extension notice sent before a rule expires.
public struct NoticeRule: Sendable, Equatable {
    /// How long before expiry the notice goes out; days count as 24 hours.
    public var lead: Period
    /// A consent field that must read yes for the notice to be sent (nil: always).
    public var requiresConsentField: String?
    public var template: String
    /// How long an accepted extension keeps the data, counted from the consent date.
    public var extensionPeriod: Period
    /// Opt-in: a notice due in this daily window (minutes after midnight in the recipient's zone — the
    /// record's `fields.timeZone`, else the policy's zone; the window may cross midnight) waits for its end. Korean law requires
    /// separate consent for advertising between 21:00 and 08:00 (정보통신망법 제50조 제3항); consent
    /// notices are not advertising, so kr-pipa leaves this off.
    public var quietHours: QuietHours? = nil
    /// Opt-in: a declined extension withdraws the consent at once (the consent field is written "N"
    /// to the source), so a rule with `endsWithoutConsent` erases or deletes without waiting for
    /// the expiry. Off (decline = the data goes at expiry) in kr-pipa.
    public var declineImmediately = false
    /// Opt-in: the template of a notice telling the person the result of their consent decision,
    /// sent right after it (정보통신망법 제50조 제7항: within 14 days of a consent change). nil: none.
    public var resultTemplate: String? = nil
    /// Opt-in, with `resultTemplate`: a change of `requiresConsentField` made in the source (the CRM) —
    /// not by Lethe — is reported with the same template at the next sync or webhook.
    public var resultForSourceChanges = false

    public init(lead: Period, requiresConsentField: String?, template: String, extension: Period) {
        self.lead = lead
        self.requiresConsentField = requiresConsentField
        self.template = template
        self.extensionPeriod = `extension`
    }
}

/// A re-confirmation notice sent every `every` from the consent date to people whose consent reads yes:
/// "do you still want to receive our marketing?" (정보통신망법 제50조 제8항, 시행령 제62조의3: the
/// sender, the consent date and how to keep or withdraw it). Keeping it records the decision (and, with
/// `confirmedAt`, writes the date back, which restarts the count); withdrawing writes the consent field
/// "N" to the source; no answer keeps the consent as it is. It never deletes by itself.
public struct ReconfirmRule: Sendable, Equatable {
    /// How often: the cycles fall at basis + every, + 2 × every, …
    public var every: Period
    /// How long before each cycle the notice goes out (days count as 24 hours).
    public var lead: Period
    public var template: String
    /// The consent field that must read yes; withdrawing writes it "N".
    public var consentField: String
    /// Date fields the cycles count from (the consent date, a previous re-confirmation); the latest
    /// non-empty one counts. Empty: the rule's own basis.
    public var basis: [String]
    /// A date field written with the decision's instant when the person keeps their consent (nil:
    /// only recorded in Lethe's audit log). It belongs to the cycles' basis.
    public var confirmedAtField: String?
    public var quietHours: QuietHours? = nil
    /// The result notice after a decision (정보통신망법 제50조 제7항), nil: none.
    public var resultTemplate: String? = nil
    /// Opt-in, with `resultTemplate`: a change of `consentField` made in the source is reported too.
    public var resultForSourceChanges = false

    public init(every: Period, lead: Period, template: String, consentField: String, basis: [String] = [], confirmedAtField: String? = nil) {
        self.every = every
        self.lead = lead
        self.template = template
        self.consentField = consentField
        self.basis = basis
        self.confirmedAtField = confirmedAtField
    }

    /// The fields the cycles count from, given the rule's own basis.
    public func basisFields(ruleBasis: [String]) -> [String] {
        var fields = basis.isEmpty ? ruleBasis : basis
        if let confirmedAtField, !fields.contains(confirmedAtField) { fields.append(confirmedAtField) }
        return fields
    }

    /// The latest cycle whose notice window has opened at `now` (base + n × every − lead ≤ now, n ≥ 1),
    /// nil before the first. A record imported long after its consent gets one notice, for the
    /// current cycle, not one per missed cycle.
    public func dueCycle(from base: Date, now: Date, zone: TimeZone) -> Date? {
        func cycle(_ multiple: Int) -> Date {
            Period(years: every.years * multiple, months: every.months * multiple, days: every.days * multiple).added(to: base, in: zone)
        }
        func opened(_ multiple: Int) -> Bool { cycle(multiple).addingTimeInterval(-lead.approximateSeconds) <= now }
        let step = max(every.approximateSeconds, 1)
        // Start from the estimate (calendar months vary, so walk the last steps exactly).
        let estimate = (now.timeIntervalSince(base) + lead.approximateSeconds) / step
        var multiple = max(1, Int(min(max(estimate, 0), 1_000_000)) - 1)
        while multiple > 1, !opened(multiple) { multiple -= 1 }
        guard opened(multiple) else { return nil }
        while opened(multiple + 1) { multiple += 1 }
        return cycle(multiple)
    }

    /// The cycle after `cycle`.
    public func next(after cycle: Date, zone: TimeZone) -> Date {
        every.added(to: cycle, in: zone)
    }
}

/// A daily window `start`–`end` (minutes after midnight; `end < start` crosses midnight).
public struct QuietHours: Sendable, Equatable {
    public var start: Int
    public var end: Int

    public init(start: Int, end: Int) {
        self.start = start
        self.end = end
    }

    /// `21:00-08:00`.
    public init?(parsing text: String) {
        let parts = text.split(separator: "-").map { $0.trimmingCharacters(in: .whitespaces) }
        func minutes(_ part: String) -> Int? {
            let pieces = part.split(separator: ":")
            guard pieces.count == 2, let hour = Int(pieces[0]), let minute = Int(pieces[1]), (0...23).contains(hour), (0...59).contains(minute) else { return nil }
            return hour * 60 + minute
        }
        guard parts.count == 2, let start = minutes(parts[0]), let end = minutes(parts[1]), start != end else { return nil }
        self.init(start: start, end: end)
    }

    /// When `date` falls in the window, the instant the window ends; nil outside it.
    public func end(ifInside date: Date, zone: TimeZone) -> Date? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let parts = calendar.dateComponents([.hour, .minute], from: date)
        let now = (parts.hour ?? 0) * 60 + (parts.minute ?? 0)
        let inside = start < end ? (now >= start && now < end) : (now >= start || now < end)
        guard inside else { return nil }
        let midnight = calendar.startOfDay(for: date)
        var endDate = calendar.date(byAdding: .minute, value: end, to: midnight)!
        if endDate <= date { endDate = calendar.date(byAdding: .day, value: 1, to: endDate)! }
        return endDate
    }
}

