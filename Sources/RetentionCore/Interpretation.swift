public import Foundation

/// Why a record is quarantined: it is never changed and is reported with its line.
public struct QuarantineReason: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Stable machine code: `empty_id`, `duplicate_id`, `missing_created_at`, `invalid_created_at`,
    /// `future_created_at`, `invalid_date`, `empty_purpose`, `unknown_purpose`, `malformed_row`.
    public var code: String
    /// Human detail with no personal data (a field or purpose name, a line list).
    public var detail: String

    public init(code: String, detail: String = "") {
        self.code = code
        self.detail = detail
    }

    public var description: String { detail.isEmpty ? code : "\(code): \(detail)" }

    public static let emptyID = QuarantineReason(code: "empty_id", detail: "the record has no id")
    public static func duplicateID(lines: [Int]) -> QuarantineReason {
        QuarantineReason(code: "duplicate_id", detail: "the id occurs more than once (lines \(lines.map(String.init).joined(separator: ", ")))")
    }
}

/// What a policy reads from one valid record.
public struct RecordFacts: Sendable, Equatable {
    public var createdAt: Date
    public var purposes: [String]
    /// The expiry of each matching rule, by rule name.
    public var expiries: [String: Date]
    public var hasEmail: Bool
    /// Field values that erasure would change, by rule name (empty: nothing left to erase).
    public var pendingErasures: [String: [ErasedField]]
    /// Consent fields read as yes/no, by field name.
    public var consents: [String: Bool]

    /// The moment no rule requires the record any more.
    public var finalExpiry: Date { expiries.values.max() ?? createdAt }
}

public enum Interpretation: Sendable, Equatable {
    case valid(RecordFacts)
    case quarantined(QuarantineReason)
}

extension Policy {
    /// Reads a record the way this policy sees it, or says why it must be quarantined.
    /// Pure: the same record, policy and `now` always give the same answer.
    public func interpret(_ record: SourceRecord, now: Date) -> Interpretation {
        if let defect = record.defect {
            return .quarantined(QuarantineReason(code: "malformed_row", detail: defect))
        }
        if record.id.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            return .quarantined(.emptyID)
        }
        let parser = DateParser(zone: zone)
        guard let createdText = record.value(fields.createdAt) else {
            return .quarantined(QuarantineReason(code: "missing_created_at", detail: "\(fields.createdAt) is empty"))
        }
        guard let createdAt = parser.parse(createdText) else {
            return .quarantined(QuarantineReason(code: "invalid_created_at", detail: "\(fields.createdAt) is not a valid date"))
        }
        if createdAt > now {
            return .quarantined(QuarantineReason(code: "future_created_at", detail: "\(fields.createdAt) lies in the future"))
        }
        var basisDates: [String: Date] = [fields.createdAt: createdAt]
        for field in Set(rules.flatMap(\.basis)) where field != fields.createdAt {
            guard let text = record.value(field) else { continue }
            guard let date = parser.parse(text) else {
                return .quarantined(QuarantineReason(code: "invalid_date", detail: "\(field) is not a valid date"))
            }
            basisDates[field] = date
        }
        var purposes: [String] = []
        for token in (record.fields[fields.purposes] ?? "").components(separatedBy: purposeSeparator) {
            let purpose = token.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !purpose.isEmpty else { continue }
            guard rule(named: purpose) != nil else {
                return .quarantined(QuarantineReason(code: "unknown_purpose", detail: "unknown purpose '\(purpose.prefix(40))'"))
            }
            if !purposes.contains(purpose) { purposes.append(purpose) }
        }
        if purposes.isEmpty {
            return .quarantined(QuarantineReason(code: "empty_purpose", detail: "\(fields.purposes) is empty"))
        }
        var expiries: [String: Date] = [:]
        var pending: [String: [ErasedField]] = [:]
        for purpose in purposes {
            guard let rule = rule(named: purpose) else { continue }
            let start = rule.basis.compactMap { basisDates[$0] }.max() ?? createdAt
            expiries[purpose] = rule.period.added(to: start, in: zone)
            let changes = rule.erase.filter { !isErased($0, in: record) }
            if !changes.isEmpty { pending[purpose] = changes }
        }
        var consents: [String: Bool] = [:]
        for field in Set(rules.compactMap { $0.notice?.requiresConsentField } + [fields.consent]) {
            consents[field] = ConsentValue.parse(record.fields[field]) ?? false
        }
        return .valid(
            RecordFacts(
                createdAt: createdAt,
                purposes: purposes,
                expiries: expiries,
                hasEmail: record.value(fields.email) != nil,
                pendingErasures: pending,
                consents: consents
            )
        )
    }

    /// A field counts as erased when it already holds its erased value; consent fields compare as
    /// yes/no, so an empty consent is already "N".
    private func isErased(_ erased: ErasedField, in record: SourceRecord) -> Bool {
        let current = record.value(erased.field) ?? ""
        let target = erased.value.trimmingCharacters(in: .whitespaces)
        if let targetConsent = ConsentValue.parse(target), isConsentField(erased.field),
            let currentConsent = ConsentValue.parse(current)
        {
            return currentConsent == targetConsent
        }
        return current == target
    }

    private func isConsentField(_ field: String) -> Bool {
        field == fields.consent || rules.contains { $0.notice?.requiresConsentField == field }
    }
}
