import CSVConnector
import ConnectorConformance
import Foundation
import RetentionCore
import Testing

/// Writes the fixture world as a UTF-8 CSV file (header = canonical names) and builds the connector
/// through its factory, as `lethe` does.
struct CSVConformanceSubject: ConformanceSubject {
    let folder: TemporaryFolder
    let log: LogRecorder

    func make(seededWith records: [SourceRecord]) async throws -> ConnectorInstance {
        let columns = ConformanceFixtures.fieldNames
        var text = columns.joined(separator: ",") + "\n"
        for record in records {
            let values = columns.map { column in column == "id" ? record.id : record.fields[column] ?? "" }
            text += values.map(Self.quoted).joined(separator: ",") + "\n"
        }
        let file = try folder.file("contacts-\(UUID().uuidString).csv", text)
        let settings = ConfigNode(
            value: .mapping([
                (key: "path", node: ConfigNode(value: .scalar(file.path), location: nil, keyPath: "settings.path"))
            ]),
            location: nil, keyPath: "settings")
        let context = ConnectorContext(
            name: "contacts", clock: FixedClock(Date(timeIntervalSince1970: 1_750_000_000)), log: log.function,
            stateDirectory: folder.url, configDirectory: folder.url)
        return try ConnectorFactory.csv.make(settings, context)
    }

    static func quoted(_ value: String) -> String {
        guard value.contains(where: { ",\"\n\r".contains($0) }) else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

@Suite struct CSVConformanceTests {
    @Test(arguments: ConformanceCheck.allCases)
    func conformance(_ check: ConformanceCheck) async throws {
        let folder = try TemporaryFolder()
        let log = LogRecorder()
        try await runConformance(check, subject: CSVConformanceSubject(folder: folder, log: log))
        for entry in log.entries {
            for record in ConformanceFixtures.world {
                #expect(!entry.contains(record.id), "log entry names a record id")
                for value in record.fields.values where value.count > 3 {
                    #expect(!entry.contains(value), "log entry contains a field value")
                }
            }
        }
        let leftovers = try folder.names().filter { $0.hasSuffix(".tmp") }
        #expect(leftovers.isEmpty)
    }

    @Test func conformanceCatchesABrokenConnector() async throws {
        // The kit itself must fail: a source that drops a record breaks pullYieldsEveryRecordOnce.
        struct Dropping: ConformanceSubject {
            let inner: CSVConformanceSubject
            func make(seededWith records: [SourceRecord]) async throws -> ConnectorInstance {
                try await inner.make(seededWith: Array(records.dropFirst()))
            }
        }
        let folder = try TemporaryFolder()
        let subject = Dropping(inner: CSVConformanceSubject(folder: folder, log: LogRecorder()))
        await #expect(throws: ConformanceFailure.self) {
            try await runConformance(.pullYieldsEveryRecordOnce, subject: subject)
        }
    }
}
