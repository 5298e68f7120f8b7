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
    /// For rules with a re-confirmation whose consent reads yes: the cycle whose notice window is open
    /// (the latest one), by rule name.
    public var reconfirmations: [String: Date] = [:]

    /// The moment no rule requires the record any more.
    public var finalExpiry: Date { expiries.values.max() ?? createdAt }
}

public enum Interpretation: Sendable, Equatable {
    case valid(RecordFacts)
    case quarantined(QuarantineReason)
}

extension Policy {
    /// Reads a record the way this policy sees it, or says why it must be quarantined.
    /// Pure: the same record, policy and `now` always give the same answer. It is `facts(of:)` (what
    /// the state keeps) interpreted at `now`, so a record judged from its stored facts and one judged
    /// from its source row always agree.
    public func interpret(_ record: SourceRecord, now: Date) -> Interpretation {
        let layout = PolicyLayout(self)
        return interpret(facts(of: record, layout: layout), layout: layout, now: now)
    }

    /// The date a rule's re-confirmation cycles count from in this record (the latest of its basis
    /// dates, else the rule's own start), nil when the rule has none or a date cannot be read.
    public func reconfirmationBase(rule: RetentionRule, in record: SourceRecord) -> Date? {
        guard let reconfirm = rule.reconfirm else { return nil }
        let parser = DateParser(zone: zone)
        let dates = reconfirm.basisFields(ruleBasis: rule.basis).compactMap { FastText.value($0, in: record).flatMap(parser.parse) }
        if let latest = dates.max() { return latest }
        return rule.basis.compactMap { FastText.value($0, in: record).flatMap(parser.parse) }.max()
    }

    /// A field counts as erased when it already holds its erased value; consent fields compare as
    /// yes/no, so an empty consent is already "N".
    func isErased(_ erased: ErasedField, in record: SourceRecord) -> Bool {
        Self.isErased(erased, consent: isConsentField(erased.field), in: record)
    }

    /// `isErased`, with whether the field is a consent field already known.
    static func isErased(_ erased: ErasedField, consent isConsent: Bool, in record: SourceRecord) -> Bool {
        isErased(erased, consent: isConsent, current: FastText.value(erased.field, in: record))
    }

    /// `isErased` on the field's trimmed value (nil: missing or blank).
    static func isErased(_ erased: ErasedField, consent isConsent: Bool, current value: String?) -> Bool {
        let current = value ?? ""
        let target = FastText.trimmed(erased.value, newlines: false)
        if let targetConsent = FastText.consent(target), isConsent,
            let currentConsent = FastText.consent(current)
        {
            return currentConsent == targetConsent
        }
        return current == target
    }

    private func isConsentField(_ field: String) -> Bool {
        field == fields.consent || rules.contains { $0.notice?.requiresConsentField == field || $0.reconfirm?.consentField == field }
    }
}

/// Shortcuts for the text handling `interpret` does for every field of every record. Each gives
/// exactly the answer of the Foundation call it stands for (and falls back to it whenever the
/// shortcut cannot be sure): `trimmingCharacters`, `components(separatedBy:)`, `ConsentValue.parse`.
public enum FastText {
    /// `text.trimmingCharacters(in: newlines ? .whitespacesAndNewlines : .whitespaces)`.
    public static func trimmed(_ text: String, newlines: Bool) -> String {
        // Visible ASCII at both ends (most values): nothing to trim, told from two bytes.
        let bytes = text.utf8
        guard let firstByte = bytes.first, let lastByte = bytes.last else { return text }
        if (0x21...0x7E).contains(firstByte), (0x21...0x7E).contains(lastByte) { return text }
        let scalars = text.unicodeScalars
        guard let first = scalars.first, let last = scalars.last else { return text }
        if isNeverTrimmed(first), isNeverTrimmed(last) { return text }
        // Scalar by scalar from both ends, as `trimmingCharacters` does; ASCII answered here.
        var start = scalars.startIndex
        var end = scalars.endIndex
        while start < end, isTrimmed(scalars[start], newlines: newlines) { scalars.formIndex(after: &start) }
        while end > start {
            let before = scalars.index(before: end)
            guard isTrimmed(scalars[before], newlines: newlines) else { break }
            end = before
        }
        if start == scalars.startIndex, end == scalars.endIndex { return text }
        return String(scalars[start..<end])
    }

    /// In `.whitespaces` (or `.whitespacesAndNewlines`).
    private static func isTrimmed(_ scalar: Unicode.Scalar, newlines: Bool) -> Bool {
        switch scalar.value {
        case 0x20, 0x09: return true
        case 0x0A...0x0D: return newlines
        case 0x21...0x7E, 0xAC00...0xD7A3: return false
        default: return (newlines ? CharacterSet.whitespacesAndNewlines : CharacterSet.whitespaces).contains(scalar)
        }
    }

    /// Visible ASCII and Hangul syllables: in no whitespace or newline set.
    private static func isNeverTrimmed(_ scalar: Unicode.Scalar) -> Bool {
        (0x21...0x7E).contains(scalar.value) || (0xAC00...0xD7A3).contains(scalar.value)
    }

    /// `record.value(field)`: the trimmed value, nil when missing or blank.
    static func value(_ field: String, in record: SourceRecord) -> String? {
        guard let raw = record.fields[field] else { return nil }
        let trimmed = trimmed(raw, newlines: true)
        return trimmed.isEmpty ? nil : trimmed
    }

    /// `text.components(separatedBy: separator)`, split by hand when both are plain ASCII without
    /// line breaks (where characters and bytes coincide).
    static func split(_ text: String, separator: String) -> [String] {
        guard !separator.isEmpty, isPlainASCII(separator), isPlainASCII(text) else {
            return text.components(separatedBy: separator)
        }
        var text = text
        var separator = separator
        return text.withUTF8 { bytes in
            separator.withUTF8 { pattern in
                var parts: [String] = []
                var start = 0
                var index = 0
                while index + pattern.count <= bytes.count {
                    if bytes[index] == pattern[0], UnsafeBufferPointer(rebasing: bytes[index..<(index + pattern.count)]).elementsEqual(pattern) {
                        parts.append(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self))
                        index += pattern.count
                        start = index
                    } else {
                        index += 1
                    }
                }
                parts.append(String(decoding: UnsafeBufferPointer(rebasing: bytes[start...]), as: UTF8.self))
                return parts
            }
        }
    }

    private static func isPlainASCII(_ text: String) -> Bool {
        text.utf8.allSatisfy { $0 < 0x80 && $0 != UInt8(ascii: "\r") && $0 != UInt8(ascii: "\n") }
    }

    /// `ConsentValue.parse(text)`, answering the common one-letter forms directly.
    static func consent(_ text: String?) -> Bool? {
        guard let text else { return false }
        switch text {
        case "", "N", "n": return false
        case "Y", "y": return true
        default: return ConsentValue.parse(text)
        }
    }

    /// The distinct elements, in first-seen order (the lists are a few names long).
    static func unique(_ names: [String]) -> [String] {
        var result: [String] = []
        for name in names where !result.contains(name) { result.append(name) }
        return result
    }
}
