import Foundation
import PropertyBased
import RetentionCore
import RetentionTesting

/// A generated contact and the instant it is evaluated at, built from small integers so that
/// PropertyBased can shrink a failing case to a readable one.
struct Scenario: Sendable, CustomStringConvertible {
    static let seoul = TimeZone(identifier: "Asia/Seoul")!
    static let epoch = date("2016-01-01")
    static let year = 365 * 86_400

    var createdOffset: Int
    var createdForm: Int
    var purposeMask: Int
    var purposeNoise: Int
    var consentIndex: Int
    var hasEmail: Bool
    var interestsIndex: Int
    /// Seconds after `created` of `consent_extended_at`; negative means none.
    var extensionOffset: Int
    /// Seconds after `created` of "now".
    var nowOffset: Int
    var held: Bool

    static let consents = ["Y", "N", "", "yes", "0", "true"]
    static let interests = ["", "hiking", "books, \"jazz\""]

    var purposes: [String] {
        [(1, "payment"), (2, "dispute"), (4, "marketing")].filter { purposeMask & $0.0 != 0 }.map(\.1)
    }

    var purposeText: String {
        switch purposeNoise {
        case 1: purposes.map { " \($0) " }.joined(separator: ";")
        case 2: ";" + purposes.joined(separator: ";;") + ";"
        default: purposes.joined(separator: ";")
        }
    }

    /// `created_at` as the instant the record's text denotes (date-only forms drop the time).
    var createdText: String { Self.text(Self.epoch.addingTimeInterval(Double(createdOffset)), form: createdForm) }
    var created: Date { DateParser(zone: Self.seoul).parse(createdText)! }
    var extensionText: String? {
        extensionOffset < 0 ? nil : Self.text(created.addingTimeInterval(Double(extensionOffset)), form: 0)
    }
    var now: Date { created.addingTimeInterval(Double(nowOffset)) }

    var record: SourceRecord {
        RetentionTesting.record(
            id: "p-\(createdOffset)",
            created: createdText,
            purpose: purposeText,
            consent: Self.consents[consentIndex],
            email: hasEmail ? "prop@example.com" : nil,
            interests: Self.interests[interestsIndex],
            consentExtendedAt: extensionText
        )
    }

    var description: String {
        "created=\(createdText) purposes=\(purposeText) consent=\(Self.consents[consentIndex]) email=\(hasEmail) "
            + "ext=\(extensionText ?? "-") now=+\(nowOffset)s held=\(held)"
    }

    /// The expiry of each purpose computed here, independently of `Policy.interpret`.
    var expectedExpiries: [String: Date] {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = Self.seoul
        var result: [String: Date] = [:]
        for purpose in purposes {
            switch purpose {
            case "payment": result[purpose] = calendar.date(byAdding: .year, value: 5, to: created)
            case "dispute": result[purpose] = calendar.date(byAdding: .year, value: 3, to: created)
            default:
                let extended = extensionText.flatMap { DateParser(zone: Self.seoul).parse($0) }
                result[purpose] = calendar.date(byAdding: .year, value: 2, to: max(created, extended ?? created))
            }
        }
        return result
    }

    /// Formats an instant in one of the accepted forms (Seoul wall time unless an offset is written).
    static func text(_ instant: Date, form: Int) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = form == 1 ? TimeZone(identifier: "UTC")! : seoul
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: instant)
        func two(_ value: Int?) -> String { String(format: "%02d", value ?? 0) }
        let day = "\(c.year ?? 0)-\(two(c.month))-\(two(c.day))"
        let time = "\(two(c.hour)):\(two(c.minute)):\(two(c.second))"
        switch form {
        case 0: return "\(day)T\(time)+09:00"
        case 1: return "\(day)T\(time)Z"
        case 2: return "\(day) \(time)"
        case 3: return "\(c.year ?? 0).\(two(c.month)).\(two(c.day))"
        default: return day
        }
    }

    /// Every field of a scenario, each from a small integer range.
    static let generator = zip(
        zip(
            Gen.int(in: 0...(11 * year)),
            Gen.int(in: 0...4),
            Gen.int(in: 1...7),
            Gen.int(in: 0...2),
            Gen.int(in: 0...(consents.count - 1))
        ),
        zip(
            Gen.bool,
            Gen.int(in: 0...(interests.count - 1)),
            Gen.int(in: -1...(4 * year)),
            Gen.int(in: 0...(8 * year)),
            Gen.bool
        )
    ).map { first, second in
        Scenario(
            createdOffset: first.0,
            createdForm: first.1,
            purposeMask: first.2,
            purposeNoise: first.3,
            consentIndex: first.4,
            hasEmail: second.0,
            interestsIndex: second.1,
            extensionOffset: second.2,
            nowOffset: second.3,
            held: second.4
        )
    }
}
