import Foundation
public import RetentionCore

/// Reads the facts the state keeps for one policy as another policy would have read them, by field and
/// purpose name: the state keeps only what its own policy reads (dates, consent flags and erasable
/// fields of its layout, purposes as bits over its rules), so the other policy's inputs are mapped by
/// name and the ones the state does not keep are named (`missing`) and read as empty. Pure.
public struct FactsTranslation: Sendable {
    /// A field the other policy reads that the state does not keep, and what the policy reads it for.
    public struct MissingField: Sendable, Equatable, Codable {
        public var field: String
        /// `created-at`, `date`, `purposes`, `consent`, `erasable` or `email`.
        public var kind: String
        /// What the other policy uses it for (rule names, never values).
        public var neededFor: String
        /// The rules of the other policy that read it (a `date`, `consent` or `erasable` field), by name:
        /// what `neededFor` says, for texts in other languages.
        public var rules: [String] = []
        /// For `purposes`: the current policy's purposes field, whose names are mapped.
        public var mappedFrom: String?

        enum CodingKeys: String, CodingKey { case field, kind, neededFor }
    }

    public let current: Policy
    public let currentLayout: PolicyLayout
    public let other: Policy
    public let otherLayout: PolicyLayout
    /// Fields the other policy reads that the state does not keep: each is read as empty.
    public let missing: [MissingField]
    /// Per date of the other layout: its position in the current facts' dates.
    private let datePositions: [Int?]
    /// Per consent field of the other layout: its bit in the current facts' consents.
    private let consentBits: [Int?]
    /// Per current rule: the other policy's rule of the same purpose (nil: the purpose is unknown there).
    private let purposeBits: [Int?]
    /// Per other rule, per erased field: the current rule and position whose bit says the same.
    private let erasedBits: [[(rule: Int, position: Int)?]]

    public init(current: Policy, other: Policy) {
        self.current = current
        self.other = other
        let currentLayout = PolicyLayout(current)
        let otherLayout = PolicyLayout(other)
        self.currentLayout = currentLayout
        self.otherLayout = otherLayout
        var missing: [MissingField] = []
        func miss(_ field: String, _ kind: String, _ neededFor: String, rules: [RetentionRule] = [], mappedFrom: String? = nil) {
            guard !missing.contains(where: { $0.field == field }) else { return }
            missing.append(MissingField(field: field, kind: kind, neededFor: neededFor, rules: rules.map(\.name), mappedFrom: mappedFrom))
        }
        datePositions = otherLayout.dateFields.map { currentLayout.dateIndex[$0] }
        for (index, field) in otherLayout.dateFields.enumerated() where datePositions[index] == nil {
            if index == 0 {
                miss(field, "created-at", "the collection date of every record")
            } else {
                let users = other.rules.filter { rule in
                    rule.basis.contains(field) || (rule.reconfirm?.basisFields(ruleBasis: rule.basis).contains(field) ?? false)
                }
                miss(field, "date", "the basis of " + Self.names(users), rules: users)
            }
        }
        if other.fields.purposes != current.fields.purposes {
            miss(other.fields.purposes, "purposes", "the purposes of every record (mapped by purpose name from \(current.fields.purposes))",
                 mappedFrom: current.fields.purposes)
        }
        consentBits = otherLayout.consentFields.map { currentLayout.consentIndex[$0] }
        for (index, field) in otherLayout.consentFields.enumerated() where consentBits[index] == nil {
            let users = other.rules.filter { rule in
                rule.notice?.requiresConsentField == field || rule.reconfirm?.consentField == field || rule.endsWithoutConsent == field
            }
            miss(field, "consent", users.isEmpty ? "the policy's consent field" : "the consent of " + Self.names(users), rules: users)
        }
        purposeBits = current.rules.map { rule in other.rules.firstIndex { $0.name == rule.name } }
        erasedBits = other.rules.map { rule in
            rule.erase.map { erased in
                let target = erased.value.trimmingCharacters(in: .whitespaces)
                // The same rule first, then any rule of the current policy erasing the field to the same value.
                let candidates = current.rules.indices.sorted { (current.rules[$0].name == rule.name ? 0 : 1) < (current.rules[$1].name == rule.name ? 0 : 1) }
                for index in candidates {
                    if let position = current.rules[index].erase.firstIndex(where: {
                        $0.field == erased.field && $0.value.trimmingCharacters(in: .whitespaces) == target
                    }) {
                        return (index, position)
                    }
                }
                return nil
            }
        }
        for (ruleIndex, rule) in other.rules.enumerated() {
            for (position, erased) in rule.erase.enumerated() where erasedBits[ruleIndex][position] == nil {
                miss(erased.field, "erasable", "what '\(rule.name)' erases (whether it still holds a value other than its erased one)", rules: [rule])
            }
        }
        if other.fields.email != current.fields.email {
            miss(other.fields.email, "email", "whether a notice can be sent")
        }
        self.missing = missing
    }

    /// The facts `other` would have read from the record whose `current` facts these are, with every
    /// missing field read as empty (and every erasable field it cannot tell as already erased). A
    /// purpose the other policy has no rule for quarantines the record, as reading it would.
    public func translate(_ facts: SourceFacts) -> SourceFacts {
        var result = SourceFacts(
            quarantine: facts.quarantine,
            dates: datePositions.map { $0.flatMap { $0 < facts.dates.count ? facts.dates[$0] : nil } },
            unerased: Array(repeating: 0, count: other.rules.count), hasEmail: facts.hasEmail)
        for (index, bit) in consentBits.enumerated() {
            if let bit, facts.consents & (1 << UInt64(bit)) != 0 { result.consents |= 1 << UInt64(index) }
        }
        for (index, target) in purposeBits.enumerated() where facts.purposes & (1 << UInt64(index)) != 0 {
            guard let target else {
                if result.quarantine == nil {
                    result.quarantine = QuarantineReason(code: "unknown_purpose", detail: "unknown purpose '\(current.rules[index].name.prefix(40))'")
                }
                continue
            }
            result.purposes |= 1 << UInt64(target)
        }
        for (ruleIndex, positions) in erasedBits.enumerated() {
            for (position, source) in positions.enumerated() {
                guard let source, source.rule < facts.unerased.count, facts.unerased[source.rule] & (1 << UInt64(source.position)) != 0 else { continue }
                result.unerased[ruleIndex] |= 1 << UInt64(position)
            }
        }
        return result
    }

    private static func names(_ rules: [RetentionRule]) -> String {
        rules.map { "'\($0.name)'" }.joined(separator: ", ")
    }
}
