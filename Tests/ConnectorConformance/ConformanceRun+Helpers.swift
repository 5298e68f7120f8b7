import RetentionCore

extension ConformanceRun {
    func pullAll() async throws -> [SourceRecord] {
        var records: [SourceRecord] = []
        for try await batch in source.pull(PullRequest(full: true)) { records += batch.records }
        return records
    }

    func delete(_ id: String) -> WriteOperation {
        WriteOperation(id: "conformance-\(check)-delete-\(id)", kind: .delete, recordID: id)
    }

    func erase(_ id: String, _ fields: [String]) -> WriteOperation {
        WriteOperation(
            id: "conformance-\(check)-erase-\(id)", kind: .eraseFields, recordID: id,
            fields: fields.map { ErasedField(field: $0, value: "") })
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
    func expectMatches(_ actual: [SourceRecord], _ expected: [SourceRecord]) throws {
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
