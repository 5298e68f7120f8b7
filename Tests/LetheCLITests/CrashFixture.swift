import Foundation

/// A reproducible stream of random numbers (SplitMix64): a crash or fault test prints its seed, and
/// the same seed gives the same fixture and the same kill points.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// `LETHE_<name>_SEED` when set (to replay a failure), else a fresh one.
    static func seed(_ variable: String) -> UInt64 {
        if let text = ProcessInfo.processInfo.environment[variable], let seed = UInt64(text) { return seed }
        return UInt64.random(in: 1...UInt64(UInt32.max))
    }
}

/// Contacts with random dates and purposes under the kr-pipa policy, and what must become of each
/// at the as-of instant — worked out here from the dates and the policy's periods, never from Lethe.
struct CrashFixture {
    enum Outcome: String { case delete, erase, notice, keep }

    struct Contact {
        var index: Int
        var created: Date
        var purposes: [String]
        var consent: Bool?
        var interests: String
        var extended: Date?
        var outcome: Outcome

        var email: String { "c\(index)@example.test" }
        /// The id the fake HubSpot gives the contact (record i is 1001 + i).
        var hubspotID: String { String(1001 + index) }

        /// The provider-neutral record the fake CRM is seeded with.
        var seed: [String: Any] {
            let stamp = ISO8601DateFormatter()
            return [
                "id": "c\(index)", "created": stamp.string(from: created), "updated": stamp.string(from: created),
                "email": email, "firstname": "민준", "lastname": "김", "purpose": purposes,
                "marketing_consent": consent as Any? ?? NSNull(), "interests": interests,
                "consent_extended_at": extended.map { stamp.string(from: $0) as Any } ?? NSNull(),
            ]
        }
    }

    static let asOfText = "2026-11-29T09:00:00+09:00"
    static var asOf: Date { ISO8601DateFormatter().date(from: asOfText)! }

    var contacts: [Contact]

    func ids(_ outcome: Outcome) -> Set<String> { Set(contacts.filter { $0.outcome == outcome }.map(\.hubspotID)) }

    /// `count` contacts drawn from `generator`: about a third due for deletion, some whose marketing
    /// purpose ended while another keeps them (their marketing fields erased), some in the 30-day
    /// notice window with consent, the rest kept. No date lies within two days of a boundary.
    init(count: Int, generator: inout SeededGenerator) {
        var contacts: [Contact] = []
        while contacts.count < count {
            if let contact = Self.draw(index: contacts.count, generator: &generator) { contacts.append(contact) }
        }
        self.contacts = contacts
    }

    private static let purposeSets: [[String]] = [
        ["payment"], ["marketing"], ["payment", "marketing"], ["dispute"], ["dispute", "marketing"],
    ]

    private static func draw(index: Int, generator: inout SeededGenerator) -> Contact? {
        let day = 86_400.0
        let now = asOf
        let purposes = purposeSets.randomElement(using: &generator)!
        let marketing = purposes.contains("marketing")
        // A quarter of the marketing contacts land near the end of their two years (the notice window).
        let days = marketing && Int.random(in: 0..<4, using: &generator) == 0
            ? Double.random(in: 690...745, using: &generator) : Double.random(in: 1...3000, using: &generator)
        let created = now.addingTimeInterval(-days * day - Double.random(in: 0..<day, using: &generator))
        var extended: Date?
        if marketing, Int.random(in: 0..<5, using: &generator) == 0 {
            let since = now.timeIntervalSince(created) / day
            if since > 3 { extended = created.addingTimeInterval(Double.random(in: 1...(since - 1), using: &generator) * day) }
        }
        var consent: Bool? = [true, false, nil].randomElement(using: &generator)!
        var interests = Bool.random(using: &generator) ? "golf" : ""

        // The policy (config/policies/kr-pipa.yaml): payment 5 years and dispute 3 years from creation,
        // marketing 2 years from the later of creation and the consent's renewal; calendar years in Seoul.
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Asia/Seoul")!
        func plus(_ years: Int, _ date: Date) -> Date { calendar.date(byAdding: .year, value: years, to: date)! }
        var expiries: [String: Date] = [:]
        for purpose in purposes {
            switch purpose {
            case "payment": expiries[purpose] = plus(5, created)
            case "dispute": expiries[purpose] = plus(3, created)
            default: expiries[purpose] = plus(2, max(created, extended ?? created))
            }
        }
        let noticeEnd = calendar.date(byAdding: .day, value: 30, to: now)!
        for expiry in expiries.values where abs(expiry.timeIntervalSince(now)) < 2 * day || abs(expiry.timeIntervalSince(noticeEnd)) < 2 * day {
            return nil
        }
        let outcome: Outcome
        if expiries.values.allSatisfy({ $0 <= now }) {
            outcome = .delete
        } else if let ends = expiries["marketing"], ends <= now {
            // Another purpose keeps the record: the marketing fields are erased (given values to erase).
            outcome = .erase
            consent = true
            interests = "golf"
        } else if let ends = expiries["marketing"], ends <= noticeEnd, consent == true {
            outcome = .notice
        } else {
            outcome = .keep
        }
        return Contact(index: index, created: created, purposes: purposes, consent: consent, interests: interests, extended: extended, outcome: outcome)
    }
}
