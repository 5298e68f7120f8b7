public import Foundation
public import RetentionCore

/// A contact record with the canonical kr-pipa fields. A `nil` argument leaves the field out
/// (which the policy reads as empty); `extra` adds or overrides fields.
///
/// Defaults describe a valid, consenting marketing contact created 2024-01-01 in Seoul.
public func record(
    id: String = "c-1",
    created: String? = "2024-01-01",
    purpose: String? = "marketing",
    consent: String? = "Y",
    email: String? = "someone@example.com",
    name: String? = "Test Person",
    phone: String? = nil,
    interests: String? = "hiking",
    consentExtendedAt: String? = nil,
    extra: [String: String] = [:],
    line: Int? = nil
) -> SourceRecord {
    var fields: [String: String] = [:]
    fields["created_at"] = created
    fields["purpose"] = purpose
    fields["marketing_consent"] = consent
    fields["email"] = email
    fields["name"] = name
    fields["phone"] = phone
    fields["interests"] = interests
    fields["consent_extended_at"] = consentExtendedAt
    fields.merge(extra) { _, new in new }
    return SourceRecord(id: id, fields: fields, line: line)
}

/// Parses a date in any form the policy accepts, zone-less forms in Asia/Seoul
/// (`date("2026-11-29T00:00:00+09:00")`, `date("2024-02-29")`). Traps on an invalid literal:
/// it is a bug in the test, not a case to handle.
public func date(_ text: String) -> Date {
    guard let parsed = DateParser(zone: Policy.krPIPA.zone).parse(text) else {
        preconditionFailure("not a valid test date literal: \(text)")
    }
    return parsed
}
