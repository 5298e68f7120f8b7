import Foundation
import RetentionCore
import RetentionTesting
import Testing

/// The example data's expected counts come from an independent Python oracle
/// (`scripts/generate-contacts.py`); the policy must agree with it record by record in total.
@Suite("Example data agrees with the Python oracle")
struct FixtureOracleTests {
    static let root = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    struct Counts: Codable, Equatable {
        var pulled = 0
        var quarantined = 0
        var deleted = 0
        var fieldsErased = 0
        var noticesSent = 0
    }

    /// RFC 4180 rows of a decoded file: quoted fields may hold commas, quotes and newlines.
    static func rows(_ text: String) -> [[String]] {
        var rows: [[String]] = []
        var row: [String] = []
        var field = ""
        var quoted = false
        var iterator = text.unicodeScalars.drop { $0 == "\u{FEFF}" }.makeIterator()
        var pending: Unicode.Scalar? = iterator.next()
        while let scalar = pending {
            pending = iterator.next()
            if quoted {
                if scalar == "\"" {
                    if pending == "\"" { field.unicodeScalars.append("\""); pending = iterator.next() } else { quoted = false }
                } else {
                    field.unicodeScalars.append(scalar)
                }
                continue
            }
            switch scalar {
            case "\"": quoted = true
            case ",": row.append(field); field = ""
            case "\r": continue
            case "\n": row.append(field); rows.append(row); row = []; field = ""
            default: field.unicodeScalars.append(scalar)
            }
        }
        if !field.isEmpty || !row.isEmpty { row.append(field); rows.append(row) }
        return rows
    }

    static func records(_ text: String) -> [SourceRecord] {
        let table = rows(text)
        let header = table[0]
        return table.dropFirst().enumerated().map { index, values in
            let fields = Dictionary(zip(header, values), uniquingKeysWith: { first, _ in first })
            return SourceRecord(id: (fields["id"] ?? "").trimmingCharacters(in: .whitespaces), fields: fields, line: index + 2)
        }
    }

    static func evaluate(_ records: [SourceRecord], now: Date) -> Counts {
        let policy = Policy.krPIPA
        let occurrences = Dictionary(grouping: records.filter { !$0.id.isEmpty }, by: \.id).mapValues(\.count)
        var counts = Counts(pulled: records.count)
        for record in records {
            if occurrences[record.id, default: 0] > 1 {
                counts.quarantined += 1
                continue
            }
            let decision = policy.evaluate(policy.interpret(record, now: now), previous: nil, held: false, now: now)
            if decision.quarantine != nil { counts.quarantined += 1 }
            for operation in decision.operations {
                switch operation.kind {
                case .delete: counts.deleted += 1
                case .eraseFields: counts.fieldsErased += 1
                case .notify: counts.noticesSent += 1
                default: break
                }
            }
        }
        return counts
    }

    static func expected(_ name: String) throws -> Counts {
        try JSONDecoder().decode(Counts.self, from: Data(contentsOf: root.appendingPathComponent("Tests/Fixtures/\(name)")))
    }

    static let asOf = date("2026-11-29T09:00:00+09:00")

    @Test(
        "policy counts equal the oracle's",
        arguments: [
            ("config/examples/contacts.csv", String.Encoding.utf8, "expected-2026-11-29.json"),
            ("Tests/Fixtures/contacts-cp949.csv", String.Encoding(rawValue: 0x8000_0422), "expected-2026-11-29.json"),
            ("Tests/Fixtures/contacts-small.csv", String.Encoding.utf8, "expected-small-2026-11-29.json"),
        ]
    )
    func agrees(file: String, encoding: String.Encoding, expectedFile: String) throws {
        let data = try Data(contentsOf: Self.root.appendingPathComponent(file))
        let text = try #require(String(data: data, encoding: encoding))
        let records = Self.records(text)
        #expect(records.allSatisfy { $0.fields.count == 9 })
        #expect(Self.evaluate(records, now: Self.asOf) == (try Self.expected(expectedFile)))
    }

    @Test("the demo data trips the 20% delete-fraction limit and has work of every kind")
    func demoShape() throws {
        let counts = try Self.expected("expected-2026-11-29.json")
        let valid = Double(counts.pulled - counts.quarantined)
        #expect((0.15...0.25).contains(Double(counts.deleted) / valid))
        #expect(Double(counts.deleted) / Double(counts.pulled) > 0.20)
        #expect((0.05...0.10).contains(Double(counts.fieldsErased) / valid))
        #expect((30...60).contains(counts.noticesSent))
    }
}
