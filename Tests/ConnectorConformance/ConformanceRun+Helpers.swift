import RetentionCore

extension ConformanceRun {
    /// A full pull, records named by fixture id.
    func pullAll() async throws -> [SourceRecord] {
        var records: [SourceRecord] = []
        for try await batch in source.pull(PullRequest(full: true)) { records += batch.records }
        return records.map(fixtureNamed)
    }

    /// `read(ids:)` of fixture ids, records named by fixture id.
    func read(_ fixtureIDs: [String]) async throws -> [SourceRecord] {
        try await source.read(ids: fixtureIDs.map(id)).map(fixtureNamed)
    }

    /// The system's id of a fixture record.
    func id(_ fixtureID: String) -> String {
        underTest.ids[fixtureID] ?? fixtureID
    }

    func fixtureNamed(_ record: SourceRecord) -> SourceRecord {
        guard let fixtureID = underTest.ids.first(where: { $0.value == record.id })?.key else { return record }
        var named = record
        named.id = fixtureID
        return named
    }

    func delete(_ fixtureID: String) -> WriteOperation {
        WriteOperation(id: "conformance-\(check)-delete-\(fixtureID)", kind: .delete, recordID: id(fixtureID))
    }

    /// Erases `fields` as the engine does: an empty value, and `N` for `marketing_consent`.
    func erase(_ fixtureID: String, _ fields: [String]) -> WriteOperation {
        WriteOperation(
            id: "conformance-\(check)-erase-\(fixtureID)", kind: .eraseFields, recordID: id(fixtureID),
            fields: fields.map { ErasedField(field: $0, value: $0 == "marketing_consent" ? "N" : "") })
    }

    /// The backend, or a failure asking for one (or an exclusion).
    func backend() throws -> any ConformanceBackend {
        guard let backend = underTest.backend else {
            throw failure("the check needs the subject's ConformanceBackend, or an exclusion with its reason")
        }
        return backend
    }

    func fixture(_ id: String) throws -> SourceRecord {
        guard let record = ConformanceFixtures.record(id) else { throw failure("no fixture \(id)") }
        return record
    }

    func failure(_ message: String) -> ConformanceFailure {
        ConformanceFailure(check: check, message: message)
    }

    func expect(_ condition: Bool, _ message: @autoclosure () -> String) throws {
        if !condition { throw failure(message()) }
    }

    /// Outcomes by name: `applied`, `alreadyGone`, `failed(code)`.
    func expectOutcomes(_ outcomes: [OperationOutcome], _ expected: [String], _ step: String) throws {
        let names = outcomes.map { outcome in
            switch outcome {
            case .applied, .deleted: "applied"
            case .alreadyGone: "alreadyGone"
            case .failed(let error): "failed(\(error.code))"
            }
        }
        try expect(names == expected, "\(step): outcomes \(names), expected \(expected)")
    }

    /// The same ids, each once, with equal values for every fixture field but `id` (raw text; a
    /// missing field equals an empty one). Names the first differing id and field, never values.
    func expectMatches(_ actual: [SourceRecord], _ fixtures: [SourceRecord]) throws {
        let expected = fixtures.map { fixture in
            var presented = underTest.presented(fixture)
            presented.id = fixture.id
            return presented
        }
        let actualIDs = actual.map(\.id).sorted()
        let expectedIDs = expected.map(\.id).sorted()
        try expect(actualIDs == expectedIDs, "ids \(actualIDs), expected \(expectedIDs)")
        let byID = Dictionary(actual.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        for record in expected {
            guard let found = byID[record.id] else { continue }
            try expect(found.defect == nil, "record \(record.id) has a defect: \(found.defect ?? "")")
            for field in ConformanceFixtures.fieldNames where field != "id" {
                try expect(
                    (found.fields[field] ?? "") == (record.fields[field] ?? ""),
                    "record \(record.id): field \(field) differs from the expected value")
            }
        }
    }
}
