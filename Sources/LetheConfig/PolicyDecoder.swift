import Foundation
import RetentionCore

/// Decodes a policy file (`policy:` at the root) into a `Policy`, recording every error with its
/// file, line and key. Returns nil when anything in the file was wrong.
struct PolicyDecoder {
    static let policyKeys: Set<String> = [
        "name", "zone", "destroyWithin", "action", "purposeSeparator", "fields", "rules",
    ]
    static let fieldKeys: Set<String> = ["createdAt", "purposes", "email", "name", "consent", "locale", "timeZone"]
    static let ruleKeys: Set<String> = ["purpose", "period", "basis", "erase", "notice", "legalBasis", "endsWithoutConsent", "reconfirm"]
    static let noticeKeys: Set<String> = ["lead", "requiresConsent", "template", "extension", "quietHours", "decline", "resultTemplate", "resultForSourceChanges"]
    static let reconfirmKeys: Set<String> = ["every", "lead", "template", "consent", "basis", "confirmedAt", "quietHours", "resultTemplate", "resultForSourceChanges"]
    static let defaultZone = "Asia/Seoul"

    func decodeFile(_ root: ConfigNode, issues: inout ConfigIssues) -> Policy? {
        let before = issues.errors.count
        let reader = MappingReader(root, allowed: ["policy"], issues: &issues)
        guard let node = issues.attempt({ () throws(ConfigError) in try reader.required("policy") }) else { return nil }
        let policy = decodePolicy(node, issues: &issues)
        return issues.errors.count == before ? policy : nil
    }

    private func decodePolicy(_ node: ConfigNode, issues: inout ConfigIssues) -> Policy? {
        let reader = MappingReader(node, allowed: Self.policyKeys, issues: &issues)
        let name = issues.attempt { () throws(ConfigError) in try reader.text("name") }
        let zone = issues.attempt { () throws(ConfigError) in try decodeZone(reader) }
        let destroyWithin = issues.attempt { () throws(ConfigError) in
            try reader.optional("destroyWithin").map { node throws(ConfigError) in try node.period() }
                ?? Period(days: 5)
        }
        let action = issues.attempt { () throws(ConfigError) in try decodeAction(reader) }
        let separator = issues.attempt { () throws(ConfigError) in try decodeSeparator(reader) }
        let fields = reader.optional("fields").map { decodeFields($0, issues: &issues) } ?? PolicyFields()
        let rules = decodeRules(reader, separator: separator ?? ";", fields: fields, issues: &issues)
        guard let name, let zone, let destroyWithin, let action, let separator else { return nil }
        return Policy(
            name: name, zone: zone, destroyWithin: destroyWithin, fields: fields,
            purposeSeparator: separator, rules: rules, action: action
        )
    }

    private func decodeZone(_ reader: MappingReader) throws(ConfigError) -> TimeZone {
        guard let node = reader.optional("zone") else { return TimeZone(identifier: Self.defaultZone)! }
        let identifier = try node.string()
        guard let zone = TimeZone(identifier: identifier) else {
            throw node.error(
                "config.zone", "unknown time zone '\(identifier.prefix(40))' (use an IANA name such as Asia/Seoul)")
        }
        return zone
    }

    private func decodeAction(_ reader: MappingReader) throws(ConfigError) -> RecordAction {
        guard let node = reader.optional("action") else { return .delete }
        let text = try node.string()
        guard let action = RecordAction(rawValue: text) else {
            throw node.error("config.choice", "expected delete or archive-then-delete, found '\(text.prefix(40))'")
        }
        return action
    }

    private func decodeSeparator(_ reader: MappingReader) throws(ConfigError) -> String {
        guard let node = reader.optional("purposeSeparator") else { return ";" }
        let separator = try node.string()
        guard !separator.isEmpty else { throw node.error("config.empty", "must not be empty") }
        return separator
    }

    private func decodeFields(_ node: ConfigNode, issues: inout ConfigIssues) -> PolicyFields {
        let reader = MappingReader(node, allowed: Self.fieldKeys, issues: &issues)
        var fields = PolicyFields()
        let slots: [(String, WritableKeyPath<PolicyFields, String>)] = [
            ("createdAt", \.createdAt), ("purposes", \.purposes), ("email", \.email),
            ("name", \.name), ("consent", \.consent), ("locale", \.locale), ("timeZone", \.timeZone),
        ]
        for (key, slot) in slots {
            if let value = issues.attempt({ () throws(ConfigError) in try reader.optionalText(key) }), let value {
                fields[keyPath: slot] = value
            }
        }
        return fields
    }

    private func decodeRules(_ reader: MappingReader, separator: String, fields: PolicyFields, issues: inout ConfigIssues)
        -> [RetentionRule]
    {
        guard let list = issues.attempt({ () throws(ConfigError) in try reader.required("rules").items() }) else {
            return []
        }
        if list.isEmpty {
            issues.add(
                ConfigError(
                    code: "config.empty", location: reader.node["rules"]?.location, key: reader.path("rules"),
                    problem: "a policy needs at least one rule"))
        }
        var rules: [RetentionRule] = []
        var firstByPurpose: [String: String] = [:]
        for item in list {
            guard let rule = decodeRule(item, separator: separator, fields: fields, issues: &issues) else {
                continue
            }
            if let earlier = firstByPurpose[rule.name] {
                issues.add(
                    (item["purpose"] ?? item).error(
                        "config.duplicate_purpose", "purpose '\(rule.name)' has two rules\(earlier)"))
                continue
            }
            firstByPurpose[rule.name] = (item["purpose"]?.location ?? item.location).map { " (first at \($0))" } ?? ""
            rules.append(rule)
        }
        return rules
    }

    private func decodeRule(_ node: ConfigNode, separator: String, fields: PolicyFields, issues: inout ConfigIssues)
        -> RetentionRule?
    {
        let reader = MappingReader(node, allowed: Self.ruleKeys, issues: &issues)
        let purpose = issues.attempt { () throws(ConfigError) in try decodePurpose(reader, separator: separator) }
        let period = issues.attempt { () throws(ConfigError) in try positivePeriod(reader.required("period")) }
        let basis = issues.attempt { () throws(ConfigError) in try decodeBasis(reader.optional("basis"), default: [fields.createdAt]) }
        let erase = issues.attempt { () throws(ConfigError) in try decodeErase(reader) }
        let notice = reader.optional("notice").map { decodeNotice($0, period: period, issues: &issues) }
        let legalBasis = issues.attempt { () throws(ConfigError) in try reader.optional("legalBasis")?.string() ?? "" }
        let withdrawal = issues.attempt { () throws(ConfigError) in try reader.optionalText("endsWithoutConsent") }
        let consentDefault = (notice ?? nil)?.requiresConsentField ?? fields.consent
        let reconfirm = reader.optional("reconfirm").map { decodeReconfirm($0, consentDefault: consentDefault, issues: &issues) }
        guard let purpose, let period, let basis, let erase, let legalBasis, let withdrawal else { return nil }
        if let notice, notice == nil { return nil }
        if let reconfirm, reconfirm == nil { return nil }
        var rule = RetentionRule(
            name: purpose, period: period, basis: basis, erase: erase, notice: notice ?? nil, legalBasis: legalBasis)
        rule.endsWithoutConsent = withdrawal
        rule.reconfirm = reconfirm ?? nil
        if let notice = rule.notice, notice.declineImmediately, withdrawal == nil || notice.requiresConsentField == nil {
            issues.add(reader.node.error(
                "config.decline", "notice.decline: immediately needs notice.requiresConsent and endsWithoutConsent (a decline withdraws that consent)"))
            return nil
        }
        return rule
    }

    private func decodePurpose(_ reader: MappingReader, separator: String) throws(ConfigError) -> String {
        let purpose = try reader.text("purpose")
        let node = try reader.required("purpose")
        guard purpose.trimmingCharacters(in: .whitespaces) == purpose else {
            throw node.error("config.invalid_purpose", "a purpose must not start or end with spaces")
        }
        guard !purpose.contains(separator) else {
            throw node.error(
                "config.invalid_purpose", "a purpose must not contain the purpose separator '\(separator)'")
        }
        return purpose
    }

    private func positivePeriod(_ node: ConfigNode) throws(ConfigError) -> Period {
        let period = try node.period()
        guard period != Period() else { throw node.error("config.period", "the period must be longer than zero") }
        return period
    }

    /// `basis`: a non-empty list of date field names; absent means `fallback`.
    private func decodeBasis(_ node: ConfigNode?, default fallback: [String]) throws(ConfigError) -> [String] {
        guard let node else { return fallback }
        var basis: [String] = []
        for item in try node.items() {
            let field = try item.string()
            guard !field.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw item.error("config.empty", "must not be empty")
            }
            basis.append(field)
        }
        guard !basis.isEmpty else { throw node.error("config.empty", "list at least one date field") }
        return basis
    }

    /// `erase`: field -> value the field takes, in file order; an empty value (`field:`) is "".
    private func decodeErase(_ reader: MappingReader) throws(ConfigError) -> [ErasedField] {
        guard let node = reader.optional("erase") else { return [] }
        var erased: [ErasedField] = []
        for (field, value) in try node.entries() {
            guard !field.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw value.error("config.empty", "a field name must not be empty")
            }
            erased.append(ErasedField(field: field, value: value.isNull ? "" : try value.string()))
        }
        return erased
    }

    /// nil when the notice has an error (recorded); `extension` defaults to the rule's period.
    private func decodeNotice(_ node: ConfigNode, period: Period?, issues: inout ConfigIssues) -> NoticeRule? {
        let reader = MappingReader(node, allowed: Self.noticeKeys, issues: &issues)
        let lead = issues.attempt { () throws(ConfigError) in try positivePeriod(reader.required("lead")) }
        let consent = issues.attempt { () throws(ConfigError) in try reader.optionalText("requiresConsent") }
        let template = issues.attempt { () throws(ConfigError) in try decodeTemplate(reader) }
        let extensionPeriod = issues.attempt { () throws(ConfigError) in
            try reader.optional("extension").map { node throws(ConfigError) in try positivePeriod(node) } ?? period
        }
        let quiet = issues.attempt { () throws(ConfigError) -> QuietHours?? in try decodeQuietHours(reader) }
        let decline = issues.attempt { () throws(ConfigError) -> Bool in
            guard let node = reader.optional("decline") else { return false }
            switch try node.string() {
            case "at-expiry": return false
            case "immediately": return true
            default: throw node.error("config.choice", "expected at-expiry or immediately")
            }
        }
        let resultTemplate = issues.attempt { () throws(ConfigError) in try reader.optionalText("resultTemplate") }
        let sourceChanges = issues.attempt { () throws(ConfigError) in try decodeSourceChanges(reader, needs: consent ?? nil, and: resultTemplate ?? nil) }
        guard let lead, let consent, let template, let extensionPeriod, let extensionPeriod, let quiet, let decline, let resultTemplate, let sourceChanges
        else { return nil }
        var notice = NoticeRule(lead: lead, requiresConsentField: consent, template: template, extension: extensionPeriod)
        notice.quietHours = quiet ?? nil
        notice.declineImmediately = decline
        notice.resultTemplate = resultTemplate
        notice.resultForSourceChanges = sourceChanges
        return notice
    }

    /// `reconfirm:` (정보통신망법 제50조 제8항), nil when it has an error (recorded). The consent field
    /// defaults to the notice's `requiresConsent`, else the policy's consent field; the basis to the rule's.
    private func decodeReconfirm(_ node: ConfigNode, consentDefault: String, issues: inout ConfigIssues) -> ReconfirmRule? {
        let reader = MappingReader(node, allowed: Self.reconfirmKeys, issues: &issues)
        let every = issues.attempt { () throws(ConfigError) in try positivePeriod(reader.required("every")) }
        let lead = issues.attempt { () throws(ConfigError) in try positivePeriod(reader.required("lead")) }
        let template = issues.attempt { () throws(ConfigError) in try decodeTemplate(reader) }
        let consent = issues.attempt { () throws(ConfigError) in try reader.optionalText("consent") }
        let basis = issues.attempt { () throws(ConfigError) in try decodeBasis(reader.optional("basis"), default: []) }
        let confirmedAt = issues.attempt { () throws(ConfigError) in try reader.optionalText("confirmedAt") }
        let quiet = issues.attempt { () throws(ConfigError) in try decodeQuietHours(reader) }
        let resultTemplate = issues.attempt { () throws(ConfigError) in try reader.optionalText("resultTemplate") }
        let sourceChanges = issues.attempt { () throws(ConfigError) in try decodeSourceChanges(reader, needs: consentDefault, and: resultTemplate ?? nil) }
        guard let every, let lead, let template, let consent, let basis, let confirmedAt, let quiet, let resultTemplate, let sourceChanges else { return nil }
        if lead.approximateSeconds >= every.approximateSeconds {
            issues.add(reader.node.error("config.reconfirm", "reconfirm.lead (\(lead)) must be shorter than reconfirm.every (\(every))"))
            return nil
        }
        var rule = ReconfirmRule(every: every, lead: lead, template: template, consentField: consent ?? consentDefault, basis: basis, confirmedAtField: confirmedAt)
        rule.quietHours = quiet
        rule.resultTemplate = resultTemplate
        rule.resultForSourceChanges = sourceChanges
        return rule
    }

    /// `resultForSourceChanges: true` reports consent changes made in the source; it needs the consent
    /// field it watches and the `resultTemplate` it sends.
    private func decodeSourceChanges(_ reader: MappingReader, needs consent: String?, and resultTemplate: String?) throws(ConfigError) -> Bool {
        guard let node = reader.optional("resultForSourceChanges") else { return false }
        let on = try node.bool()
        if on, consent == nil || resultTemplate == nil {
            throw node.error("config.result_template", "resultForSourceChanges needs resultTemplate (and, in notice:, requiresConsent)")
        }
        return on
    }

    /// `quietHours: 21:00-08:00`, nil when absent.
    private func decodeQuietHours(_ reader: MappingReader) throws(ConfigError) -> QuietHours? {
        guard let node = reader.optional("quietHours") else { return nil }
        guard let hours = QuietHours(parsing: try node.string()) else {
            throw node.error("config.quiet_hours", "expected a daily window such as 21:00-08:00")
        }
        return hours
    }

    /// A template name is a file name under `templates/`: no folders, no dots at the start.
    private func decodeTemplate(_ reader: MappingReader) throws(ConfigError) -> String {
        let template = try reader.text("template")
        guard !template.contains("/"), !template.contains("\\"), !template.hasPrefix(".") else {
            throw try reader.required("template").error(
                "config.invalid_template", "a template name must not contain / or start with .")
        }
        return template
    }
}
