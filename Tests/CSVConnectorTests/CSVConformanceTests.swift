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

    /// A file answers no requests: it has no batch answer, no status, no rate limit and no timeout.
    var exclusions: [ConformanceCheck: String] {
        let reason = "a CSV file answers no requests: no batch answer to leave ids out, no HTTP status, rate limit or timeout"
        return [
            .batchAnswerLeavingIDsOutDeletesOnlyTheRest: reason, .wholeRequestFailureGivesNoVerdict: reason,
            .errorsAreClassified: reason, .errorsHoldNoSecretOrPersonalData: reason,
        ]
    }

    func makeUnderTest(seededWith records: [SourceRecord]) async throws -> SourceUnderTest {
        let file = try write(records)
        return SourceUnderTest(instance: try make(file: file), backend: CSVBackend(file: file))
    }

    func make(seededWith records: [SourceRecord]) async throws -> ConnectorInstance {
        try make(file: try write(records))
    }

    func write(_ records: [SourceRecord]) throws -> URL {
        let columns = ConformanceFixtures.fieldNames
        var text = columns.joined(separator: ",") + "\n"
        for record in records {
            let values = columns.map { column in column == "id" ? record.id : record.fields[column] ?? "" }
            text += values.map(Self.quoted).joined(separator: ",") + "\n"
        }
        return try folder.file("contacts-\(UUID().uuidString).csv", text)
    }

    func make(file: URL) throws -> ConnectorInstance {
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

/// The CSV file behind a connector, edited as a person would edit it between two reads.
struct CSVBackend: ConformanceBackend {
    let file: URL

    /// Rewrites one single-line row (no quoted values) in place.
    func change(_ id: String, fields: [String: String]) async throws {
        let columns = ConformanceFixtures.fieldNames
        var lines = try String(contentsOf: file, encoding: .utf8).components(separatedBy: "\n")
        guard let index = lines.firstIndex(where: { $0.hasPrefix(id + ",") }), !lines[index].contains("\"") else {
            throw CSVBackendError(message: "no single-line row for \(id)")
        }
        var values = lines[index].components(separatedBy: ",")
        for (field, value) in fields {
            guard let column = columns.firstIndex(of: field) else { throw CSVBackendError(message: "no column \(field)") }
            values[column] = CSVConformanceSubject.quoted(value)
        }
        lines[index] = values.joined(separator: ",")
        try Data(lines.joined(separator: "\n").utf8).write(to: file)
    }

    func inject(_ fault: ConformanceFault) async throws {
        throw CSVBackendError(message: "a CSV file cannot show \(fault)")
    }

    func clearFaults() async throws {}
}

struct CSVBackendError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

@Suite struct CSVConformanceTests {
    @Test(arguments: ConformanceCheck.allCases)
    func conformance(_ check: ConformanceCheck) async throws {
        let folder = try TemporaryFolder()
        let log = LogRecorder()
        let outcome = try await runConformance(check, subject: CSVConformanceSubject(folder: folder, log: log))
        if case .notApplicable(let reason) = outcome {
            Issue.record(Comment(rawValue: "\(check) does not apply: \(reason)"), severity: .warning)
        }
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
