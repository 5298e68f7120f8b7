public import Foundation

/// Where a policy's inputs sit in `SourceFacts`: the date fields it reads (the creation date first),
/// the consent fields, and the rules' order. Built once per policy.
public struct PolicyLayout: Sendable, Equatable {
    /// The creation date, then every basis and re-confirmation date field, each once.
    public let dateFields: [String]
    /// Every consent field a rule reads (notice, re-confirmation, withdrawal, the policy's own), each once.
    public let consentFields: [String]
    public let dateIndex: [String: Int]
    public let consentIndex: [String: Int]
    /// Each rule with its fields resolved to positions (read for every record: no string lookups).
    let compiled: [CompiledRule]
    let ruleIndex: [String: Int]
    /// Every field the facts read, each once: `facts(reading:…)` asks for them by position in this list.
    public let fields: [String]
    let datePositions: [Int]
    let purposesPosition: Int
    let consentPositions: [Int]
    let emailPosition: Int
    /// The policy zone's offsets, read once.
    public let offsets: ZoneOffsets

    /// A class: read for every record, so one reference is retained, not each of its lists.
    final class CompiledRule: Sendable, Equatable {
        let name: String
        let basis: [Int]
        /// With an extension notice: the extension field's date position, and the other basis dates'.
        let extensionDate: Int?
        let otherBasis: [Int]
        let period: Period
        let extensionPeriod: Period?
        let endsWithoutConsent: Int?
        let erase: [ErasedField]
        /// Per erased field: its position in `fields`.
        let erasePositions: [Int]
        /// Per erased field: whether it is a consent field (compared as yes/no).
        let eraseIsConsent: [Bool]
        let hasReconfirm: Bool
        let reconfirmConsent: Int?
        let reconfirmBasis: [Int]
        /// The extension notice's lead (approximate seconds) and the consent it requires, if any.
        let noticeLead: TimeInterval?
        let noticeConsent: Int?
        /// Whether the rule reports consent changes made in the source.
        let reportsSourceChanges: Bool

        init(
            name: String, basis: [Int], extensionDate: Int?, otherBasis: [Int], period: Period, extensionPeriod: Period?,
            endsWithoutConsent: Int?, erase: [ErasedField], erasePositions: [Int], eraseIsConsent: [Bool], hasReconfirm: Bool,
            reconfirmConsent: Int?, reconfirmBasis: [Int], noticeLead: TimeInterval?, noticeConsent: Int?, reportsSourceChanges: Bool
        ) {
            self.name = name
            self.basis = basis
            self.extensionDate = extensionDate
            self.otherBasis = otherBasis
            self.period = period
            self.extensionPeriod = extensionPeriod
            self.endsWithoutConsent = endsWithoutConsent
            self.erase = erase
            self.erasePositions = erasePositions
            self.eraseIsConsent = eraseIsConsent
            self.hasReconfirm = hasReconfirm
            self.reconfirmConsent = reconfirmConsent
            self.reconfirmBasis = reconfirmBasis
            self.noticeLead = noticeLead
            self.noticeConsent = noticeConsent
            self.reportsSourceChanges = reportsSourceChanges
        }

        static func == (left: CompiledRule, right: CompiledRule) -> Bool {
            left.name == right.name && left.basis == right.basis && left.extensionDate == right.extensionDate
                && left.otherBasis == right.otherBasis && left.period == right.period && left.extensionPeriod == right.extensionPeriod
                && left.endsWithoutConsent == right.endsWithoutConsent && left.erase == right.erase
                && left.erasePositions == right.erasePositions && left.eraseIsConsent == right.eraseIsConsent
                && left.hasReconfirm == right.hasReconfirm && left.reconfirmConsent == right.reconfirmConsent
                && left.reconfirmBasis == right.reconfirmBasis && left.noticeLead == right.noticeLead
                && left.noticeConsent == right.noticeConsent && left.reportsSourceChanges == right.reportsSourceChanges
        }
    }

    public init(_ policy: Policy) {
        offsets = ZoneOffsets.table(for: policy.zone)
        let dates = FastText.unique([policy.fields.createdAt] + policy.rules.flatMap { rule in
            rule.basis + (rule.reconfirm?.basisFields(ruleBasis: rule.basis) ?? [])
        })
        let consents = FastText.unique(
            policy.rules.compactMap { $0.notice?.requiresConsentField } + policy.rules.compactMap { $0.reconfirm?.consentField }
                + policy.rules.compactMap(\.endsWithoutConsent) + [policy.fields.consent])
        dateFields = dates
        consentFields = consents
        let dateIndex = Dictionary(uniqueKeysWithValues: dates.enumerated().map { ($1, $0) })
        let consentIndex = Dictionary(uniqueKeysWithValues: consents.enumerated().map { ($1, $0) })
        self.dateIndex = dateIndex
        self.consentIndex = consentIndex
        let consentSet = Set(consents)
        let read = FastText.unique(dates + [policy.fields.purposes] + consents + policy.rules.flatMap { $0.erase.map(\.field) } + [policy.fields.email])
        let position = Dictionary(uniqueKeysWithValues: read.enumerated().map { ($1, $0) })
        fields = read
        datePositions = dates.map { position[$0]! }
        purposesPosition = position[policy.fields.purposes]!
        consentPositions = consents.map { position[$0]! }
        emailPosition = position[policy.fields.email]!
        compiled = policy.rules.map { rule in
            let extensionField = rule.extensionField(createdAt: policy.fields.createdAt)
            return CompiledRule(
                name: rule.name, basis: rule.basis.compactMap { dateIndex[$0] },
                extensionDate: extensionField.flatMap { dateIndex[$0] },
                otherBasis: rule.basis.filter { $0 != extensionField }.compactMap { dateIndex[$0] },
                period: rule.period, extensionPeriod: rule.notice?.extensionPeriod,
                endsWithoutConsent: rule.endsWithoutConsent.map { consentIndex[$0] ?? -1 },
                erase: rule.erase, erasePositions: rule.erase.map { position[$0.field]! },
                eraseIsConsent: rule.erase.map { consentSet.contains($0.field) || $0.field == policy.fields.consent },
                hasReconfirm: rule.reconfirm != nil, reconfirmConsent: rule.reconfirm.flatMap { consentIndex[$0.consentField] },
                reconfirmBasis: (rule.reconfirm?.basisFields(ruleBasis: rule.basis) ?? []).compactMap { dateIndex[$0] },
                noticeLead: rule.notice?.lead.approximateSeconds, noticeConsent: rule.notice?.requiresConsentField.map { consentIndex[$0] ?? -1 },
                reportsSourceChanges: rule.sourceChangeResult != nil)
        }
        ruleIndex = Dictionary(policy.rules.enumerated().map { ($1.name, $0) }) { first, _ in first }
    }
}

/// What the state keeps of a record: the policy's inputs, read once when the record is pulled, with
/// nothing that depends on the time — no name, e-mail, phone or free text, only dates, purposes as
/// bits, consent flags, which optional fields still hold a value, and whether there is an address.
///
/// `Policy.interpret(_:layout:now:)` turns them into the same `Interpretation` as reading the record
/// itself at that time.
public struct SourceFacts: Sendable, Equatable {
    /// Why the record cannot be judged, whatever the time (a malformed row, no id, a missing or invalid
    /// date, an unknown or empty purpose); nil when it can.
    public var quarantine: QuarantineReason?
    /// The dates of `PolicyLayout.dateFields`, in its order (nil: empty).
    public var dates: [Date?]
    /// The record's purposes, as bits over `Policy.rules` (bit i: rule i).
    public var purposes: UInt64
    /// Consent fields of `PolicyLayout.consentFields` that read yes, as bits.
    public var consents: UInt64
    /// Per rule, in `Policy.rules` order: bits over `rule.erase` of the fields that do not hold their
    /// erased value yet.
    public var unerased: [UInt64]
    public var hasEmail: Bool

    public init(quarantine: QuarantineReason? = nil, dates: [Date?] = [], purposes: UInt64 = 0, consents: UInt64 = 0, unerased: [UInt64] = [], hasEmail: Bool = false) {
        self.quarantine = quarantine
        self.dates = dates
        self.purposes = purposes
        self.consents = consents
        self.unerased = unerased
        self.hasEmail = hasEmail
    }

    /// The creation date, when it could be read.
    public var createdAt: Date? { dates.first ?? nil }
}

extension Policy {
    /// Reads what the policy needs from a record, independent of the time. Pure.
    public func facts(of record: SourceRecord, layout: PolicyLayout) -> SourceFacts {
        let names = layout.fields
        return facts(reading: { record.fields[names[$0]] }, id: record.id, defect: record.defect, layout: layout)
    }

    /// Reads what the policy needs from a row's fields, wherever they come from (a record's
    /// dictionary, a file's bytes): `raw(i)` is the raw value of `layout.fields[i]`, nil when the row
    /// has no such field (a missing field and an empty one both read as empty).
    public func facts(reading raw: (Int) -> String?, id: String, defect: String?, layout: PolicyLayout) -> SourceFacts {
        var facts = SourceFacts(dates: Array(repeating: nil, count: layout.dateFields.count), unerased: Array(repeating: 0, count: rules.count))
        if let defect {
            facts.quarantine = QuarantineReason(code: "malformed_row", detail: defect)
            return facts
        }
        if FastText.trimmed(id, newlines: true).isEmpty {
            facts.quarantine = .emptyID
            return facts
        }
        func value(_ position: Int) -> String? {
            guard let text = raw(position) else { return nil }
            let trimmed = FastText.trimmed(text, newlines: true)
            return trimmed.isEmpty ? nil : trimmed
        }
        let parser = DateParser(offsets: layout.offsets)
        guard let createdText = value(layout.datePositions[0]) else {
            facts.quarantine = QuarantineReason(code: "missing_created_at", detail: "\(self.fields.createdAt) is empty")
            return facts
        }
        guard let createdAt = parser.parse(createdText) else {
            facts.quarantine = QuarantineReason(code: "invalid_created_at", detail: "\(self.fields.createdAt) is not a valid date")
            return facts
        }
        facts.dates[0] = createdAt
        // From here on, a creation date in the future takes precedence when the record is interpreted.
        for index in layout.dateFields.indices.dropFirst() {
            guard let text = value(layout.datePositions[index]) else { continue }
            guard let date = parser.parse(text) else {
                facts.quarantine = QuarantineReason(code: "invalid_date", detail: "\(layout.dateFields[index]) is not a valid date")
                return facts
            }
            facts.dates[index] = date
        }
        for token in FastText.split(raw(layout.purposesPosition) ?? "", separator: purposeSeparator) {
            let purpose = FastText.trimmed(token, newlines: true)
            guard !purpose.isEmpty else { continue }
            guard let index = layout.ruleIndex[purpose] else {
                facts.quarantine = QuarantineReason(code: "unknown_purpose", detail: "unknown purpose '\(purpose.prefix(40))'")
                return facts
            }
            facts.purposes |= 1 << UInt64(index)
        }
        if facts.purposes == 0 {
            facts.quarantine = QuarantineReason(code: "empty_purpose", detail: "\(self.fields.purposes) is empty")
            return facts
        }
        for (index, position) in layout.consentPositions.enumerated() where FastText.consent(raw(position)) == true {
            facts.consents |= 1 << UInt64(index)
        }
        for index in layout.compiled.indices {
            let rule = layout.compiled[index]
            for position in rule.erase.indices
            where !Self.isErased(rule.erase[position], consent: rule.eraseIsConsent[position], current: value(rule.erasePositions[position])) {
                facts.unerased[index] |= 1 << UInt64(position)
            }
        }
        facts.hasEmail = value(layout.emailPosition) != nil
        return facts
    }

    /// The record's interpretation at `now` from its facts: exactly `interpret(record, now:)`.
    public func interpret(_ facts: SourceFacts, layout: PolicyLayout, now: Date) -> Interpretation {
        if let createdAt = facts.createdAt, createdAt > now {
            return .quarantined(QuarantineReason(code: "future_created_at", detail: "\(fields.createdAt) lies in the future"))
        }
        if let reason = facts.quarantine { return .quarantined(reason) }
        guard let createdAt = facts.createdAt else {
            return .quarantined(QuarantineReason(code: "missing_created_at", detail: "\(fields.createdAt) is empty"))
        }
        func date(_ index: Int) -> Date? { index < facts.dates.count ? facts.dates[index] : nil }
        func consent(_ index: Int) -> Bool { index >= 0 && facts.consents & (1 << UInt64(index)) != 0 }
        var purposes: [String] = []
        var expiries: [String: Date] = [:]
        var pending: [String: [ErasedField]] = [:]
        var reconfirmations: [String: Date] = [:]
        for index in layout.compiled.indices where facts.purposes & (1 << UInt64(index)) != 0 {
            let rule = layout.compiled[index]
            purposes.append(rule.name)
            let start = rule.basis.lazy.compactMap(date).max() ?? createdAt
            expiries[rule.name] = expiry(of: rule, facts: facts, createdAt: createdAt, offsets: layout.offsets)
            let bits = index < facts.unerased.count ? facts.unerased[index] : 0
            if bits != 0 {
                pending[rule.name] = rule.erase.indices.filter { bits & (1 << UInt64($0)) != 0 }.map { rule.erase[$0] }
            }
            if rule.hasReconfirm, let consentIndex = rule.reconfirmConsent, consent(consentIndex), let reconfirm = rules[index].reconfirm {
                let base = rule.reconfirmBasis.lazy.compactMap(date).max() ?? start
                reconfirmations[rule.name] = reconfirm.dueCycle(from: base, now: now, zone: zone)
            }
        }
        var consents: [String: Bool] = [:]
        for (index, field) in layout.consentFields.enumerated() { consents[field] = consent(index) }
        return .valid(
            RecordFacts(
                createdAt: createdAt, purposes: purposes, expiries: expiries, hasEmail: facts.hasEmail, pendingErasures: pending,
                consents: consents, reconfirmations: reconfirmations
            )
        )
    }

    /// When one matching rule stops requiring the record.
    @inline(__always)
    func expiry(of rule: PolicyLayout.CompiledRule, facts: SourceFacts, createdAt: Date, offsets: ZoneOffsets) -> Date {
        func date(_ index: Int) -> Date? { index < facts.dates.count ? facts.dates[index] : nil }
        let start = rule.basis.lazy.compactMap(date).max() ?? createdAt
        if let field = rule.endsWithoutConsent, !(field >= 0 && facts.consents & (1 << UInt64(field)) != 0) {
            return start
        }
        if let extensionDate = rule.extensionDate, let extended = date(extensionDate), let extensionPeriod = rule.extensionPeriod {
            // An accepted extension keeps the data `extension` from its consent date, and never less
            // than the period from the other basis dates.
            let others = rule.otherBasis.lazy.compactMap(date).max() ?? createdAt
            return max(rule.period.added(to: others, offsets: offsets), extensionPeriod.added(to: extended, offsets: offsets))
        }
        return rule.period.added(to: start, offsets: offsets)
    }

    /// The facts after Lethe wrote `changes` to the record (an erasure, an extension, a consent
    /// decision): what reading the written record would give.
    public func facts(_ facts: SourceFacts, applying changes: [ErasedField], layout: PolicyLayout) -> SourceFacts {
        var result = facts
        let parser = DateParser(zone: zone)
        for change in changes {
            let written = SourceRecord(id: "-", fields: [change.field: change.value])
            if let index = layout.dateIndex[change.field], index < result.dates.count {
                result.dates[index] = FastText.value(change.field, in: written).flatMap(parser.parse)
            }
            if let index = layout.consentIndex[change.field] {
                if FastText.consent(change.value) == true { result.consents |= 1 << UInt64(index) } else { result.consents &= ~(1 << UInt64(index)) }
            }
            for (ruleIndex, rule) in rules.enumerated() where ruleIndex < result.unerased.count {
                for (position, erased) in rule.erase.enumerated() where erased.field == change.field {
                    if isErased(erased, in: written) {
                        result.unerased[ruleIndex] &= ~(1 << UInt64(position))
                    } else {
                        result.unerased[ruleIndex] |= 1 << UInt64(position)
                    }
                }
            }
        }
        return result
    }
}

