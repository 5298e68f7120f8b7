import Foundation
import RetentionCore
import RetentionTesting
import Testing

/// The facts of a valid interpretation, nil when quarantined.
func validFacts(_ interpretation: Interpretation) -> RecordFacts? {
    guard case .valid(let facts) = interpretation else { return nil }
    return facts
}

func quarantineCode(_ interpretation: Interpretation) -> String? {
    guard case .quarantined(let reason) = interpretation else { return nil }
    return reason.code
}

@Suite("Interpretation")
struct InterpretationTests {
    let policy = Policy.krPIPA
    let now = date("2026-11-29T09:00:00+09:00")

    struct Defect: Sendable, CustomTestStringConvertible {
        var label: String
        var record: SourceRecord
        var code: String
        var testDescription: String { label }
    }

    static let defects: [Defect] = [
        Defect(label: "empty id", record: record(id: ""), code: "empty_id"),
        Defect(label: "blank id", record: record(id: "  "), code: "empty_id"),
        Defect(label: "missing created_at", record: record(created: nil), code: "missing_created_at"),
        Defect(label: "blank created_at", record: record(created: "   "), code: "missing_created_at"),
        Defect(label: "impossible created_at", record: record(created: "2023-02-30"), code: "invalid_created_at"),
        Defect(label: "month 13", record: record(created: "2023-13-01"), code: "invalid_created_at"),
        Defect(label: "US-style created_at", record: record(created: "01/02/2023"), code: "invalid_created_at"),
        Defect(label: "T without offset", record: record(created: "2023-01-02T10:00:00"), code: "invalid_created_at"),
        Defect(label: "future created_at", record: record(created: "2026-11-29T09:00:01+09:00"), code: "future_created_at"),
        Defect(label: "far future created_at", record: record(created: "2030-01-01"), code: "future_created_at"),
        Defect(label: "invalid consent_extended_at", record: record(consentExtendedAt: "2024-02-30"), code: "invalid_date"),
        Defect(label: "missing purpose", record: record(purpose: nil), code: "empty_purpose"),
        Defect(label: "only separators", record: record(purpose: " ; ;; "), code: "empty_purpose"),
        Defect(label: "capitalised purpose", record: record(purpose: "Marketing"), code: "unknown_purpose"),
        Defect(label: "unknown purpose", record: record(purpose: "sales"), code: "unknown_purpose"),
        Defect(label: "one unknown among known", record: record(purpose: "payment;sales"), code: "unknown_purpose"),
        Defect(
            label: "structural defect",
            record: SourceRecord(id: "x", fields: ["created_at": "2024-01-01", "purpose": "payment"], defect: "10 columns, expected 9"),
            code: "malformed_row"
        ),
    ]

    @Test("each defect quarantines with its code", arguments: defects)
    func quarantines(_ defect: Defect) {
        #expect(quarantineCode(policy.interpret(defect.record, now: now)) == defect.code)
    }

    @Test("quarantine details carry no field values")
    func detailsHaveNoPersonalData() {
        let secret = "sales-홍길동@example.com"
        let interpretation = policy.interpret(record(purpose: secret, email: "hong@example.com"), now: now)
        guard case .quarantined(let reason) = interpretation else {
            Issue.record("expected quarantine")
            return
        }
        #expect(!reason.description.contains("hong@example.com"))
        #expect(reason.detail.count < 120)
    }

    @Test("created_at equal to now is valid")
    func createdNowIsValid() {
        #expect(validFacts(policy.interpret(record(created: "2026-11-29T09:00:00+09:00"), now: now)) != nil)
    }

    @Test("an empty consent_extended_at is ignored, not invalid")
    func emptyExtensionIgnored() throws {
        let facts = try #require(validFacts(policy.interpret(record(consentExtendedAt: " "), now: now)))
        #expect(facts.expiries["marketing"] == date("2026-01-01"))
    }

    @Test(
        "purposes: tokens trimmed, empty tokens ignored, duplicates once, order kept",
        arguments: [
            ("payment;marketing", ["payment", "marketing"]),
            (" payment ; marketing ", ["payment", "marketing"]),
            ("payment;;marketing;", ["payment", "marketing"]),
            (";dispute", ["dispute"]),
            ("marketing;marketing", ["marketing"]),
            ("payment;dispute;marketing", ["payment", "dispute", "marketing"]),
        ]
    )
    func purposes(text: String, expected: [String]) throws {
        let facts = try #require(validFacts(policy.interpret(record(purpose: text), now: now)))
        #expect(facts.purposes == expected)
        #expect(Set(facts.expiries.keys) == Set(expected))
    }

    @Test("expiries: payment 5y, dispute 3y from created_at; marketing 2y")
    func expiries() throws {
        let facts = try #require(validFacts(policy.interpret(record(created: "2021-06-15 14:00", purpose: "payment;dispute;marketing"), now: now)))
        #expect(facts.createdAt == date("2021-06-15 14:00"))
        #expect(facts.expiries["payment"] == date("2026-06-15 14:00"))
        #expect(facts.expiries["dispute"] == date("2024-06-15 14:00"))
        #expect(facts.expiries["marketing"] == date("2023-06-15 14:00"))
        #expect(facts.finalExpiry == date("2026-06-15 14:00"))
    }

    @Test(
        "marketing runs from the later of created_at and consent_extended_at; other rules ignore it",
        arguments: [
            ("2025-03-01", "2027-03-01"),
            ("2023-01-01", "2026-01-01"),
            ("2024-01-01", "2026-01-01"),
        ]
    )
    func laterBasis(extended: String, expectedMarketing: String) throws {
        let facts = try #require(
            validFacts(policy.interpret(record(created: "2024-01-01", purpose: "dispute;marketing", consentExtendedAt: extended), now: now))
        )
        #expect(facts.expiries["marketing"] == date(expectedMarketing))
        #expect(facts.expiries["dispute"] == date("2027-01-01"))
    }

    @Test("pending erasures list only fields not yet erased")
    func pendingErasures() throws {
        let full = try #require(validFacts(policy.interpret(record(consent: "Y", interests: "a, b"), now: now)))
        #expect(Set(full.pendingErasures["marketing"] ?? []) == Set([ErasedField(field: "interests", value: ""), ErasedField(field: "marketing_consent", value: "N")]))
        let consentOnly = try #require(validFacts(policy.interpret(record(consent: "yes", interests: ""), now: now)))
        #expect(consentOnly.pendingErasures["marketing"] == [ErasedField(field: "marketing_consent", value: "N")])
        for consent in ["N", "no", "false", "0", "", nil] as [String?] {
            let nothing = try #require(validFacts(policy.interpret(record(consent: consent, interests: nil), now: now)))
            #expect(nothing.pendingErasures.isEmpty, "consent \(consent ?? "nil")")
        }
        let paymentOnly = try #require(validFacts(policy.interpret(record(purpose: "payment"), now: now)))
        #expect(paymentOnly.pendingErasures.isEmpty)
    }

    @Test("consent and email are read the policy's way")
    func consentAndEmail() throws {
        let yes = try #require(validFacts(policy.interpret(record(consent: "true"), now: now)))
        #expect(yes.consents["marketing_consent"] == true)
        #expect(yes.hasEmail)
        let garbage = try #require(validFacts(policy.interpret(record(consent: "maybe", email: "  "), now: now)))
        #expect(garbage.consents["marketing_consent"] == false)
        #expect(!garbage.hasEmail)
    }

    /// The fast trim is `trimmingCharacters` exactly, whatever stands at the ends: ASCII blanks and
    /// controls, no-break and ideographic spaces, Unicode line separators, Hangul, marks, emoji.
    @Test func theFastTrimIsFoundationsTrim() {
        let samples = [
            "", " ", "\t", "\n", " a ", "\t2024-01-05\r\n", "\u{00A0}2024-01-05\u{00A0}", "\u{3000}김민준\u{3000}", " \u{2028}x\u{2029} ",
            "\u{0085}y\u{000B}\u{000C}", "e\u{0301}", " e\u{0301} ", "🙂 ", " \u{200B}z\u{200B} ", "marketing ", "  ;service", "\u{1680}q\u{205F}",
            "a b", "\r", "\u{FEFF}x",
        ]
        for sample in samples {
            #expect(FastText.trimmed(sample, newlines: true) == sample.trimmingCharacters(in: .whitespacesAndNewlines), "\(sample.unicodeScalars.map(\.value))")
            #expect(FastText.trimmed(sample, newlines: false) == sample.trimmingCharacters(in: .whitespaces), "\(sample.unicodeScalars.map(\.value))")
        }
    }
}
