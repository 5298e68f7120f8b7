import RetentionCore

/// Runs one conformance check against a fresh instance of `subject`; throws a
/// `ConformanceFailure` describing what did not hold (or the connector's own error).
public func runConformance(_ check: ConformanceCheck, subject: some ConformanceSubject) async throws {
    let instance = try await subject.make(seededWith: ConformanceFixtures.world)
    guard let source = instance.source, let writer = instance.writer else {
        throw ConformanceFailure(check: check, message: "the subject must provide a source and a writer")
    }
    let run = ConformanceRun(check: check, source: source, writer: writer)
    try await run.deleteAlreadyDeletedRecord()
    try await run.perform()
}

/// One check against one seeded instance.
struct ConformanceRun {
    let check: ConformanceCheck
    let source: any RecordSource
    let writer: any RecordWriter

    func perform() async throws {
        switch check {
        case .checkSucceeds: try await source.check()
        case .pullYieldsEveryRecordOnce: try await pullYieldsEveryRecordOnce()
        case .pullKeepsFieldValues: try expectMatches(try await pullAll(), ConformanceFixtures.live)
        case .readReturnsCurrentRecords: try await readReturnsCurrentRecords()
        case .readOmitsMissingIDs: try await readOmitsMissingIDs()
        case .deleteRemovesRecord: try await deleteRemovesRecord()
        case .deleteIsIdempotent: try await deleteIsIdempotent()
        case .deleteOfMissingIsAlreadyGone: try await deleteOfMissingIsAlreadyGone()
        case .deleteLeavesOthersUntouched: try await deleteLeavesOthersUntouched()
        case .eraseChangesOnlyListedFields: try await eraseChangesOnlyListedFields()
        case .eraseIsIdempotent: try await eraseIsIdempotent()
        case .eraseOfMissingIsAlreadyGone: try await eraseOfMissingIsAlreadyGone()
        case .outcomesFollowOperationOrder: try await outcomesFollowOperationOrder()
        }
    }

    func deleteAlreadyDeletedRecord() async throws {
        let outcomes = try await writer.apply([delete(ConformanceFixtures.alreadyDeletedID)])
        try expectOutcomes(outcomes, ["applied"], "seeding: deleting the already deleted record")
    }

    // MARK: Checks

    private func pullYieldsEveryRecordOnce() async throws {
        let ids = try await pullAll().map(\.id)
        let expected = ConformanceFixtures.live.map(\.id)
        try expect(ids.sorted() == expected.sorted(), "pulled ids \(ids.sorted()), expected \(expected.sorted())")
    }

    private func readReturnsCurrentRecords() async throws {
        try expectOutcomes(
            try await writer.apply([erase(ConformanceFixtures.normalID, ["marketing_consent", "interests"])]),
            ["applied"], "erase before read")
        let records = try await source.read(ids: [ConformanceFixtures.normalID, ConformanceFixtures.koreanID])
        var normal = try fixture(ConformanceFixtures.normalID)
        normal.fields["marketing_consent"] = ""
        normal.fields["interests"] = ""
        try expectMatches(records, [normal, try fixture(ConformanceFixtures.koreanID)])
    }

    private func readOmitsMissingIDs() async throws {
        let records = try await source.read(ids: [
            ConformanceFixtures.unknownID, ConformanceFixtures.alreadyDeletedID, ConformanceFixtures.normalID,
        ])
        try expectMatches(records, [try fixture(ConformanceFixtures.normalID)])
        let none = try await source.read(ids: [ConformanceFixtures.unknownID])
        try expect(none.isEmpty, "read of an unknown id returned \(none.count) records")
    }

    private func deleteRemovesRecord() async throws {
        try expectOutcomes(try await writer.apply([delete(ConformanceFixtures.normalID)]), ["applied"], "delete")
        let pulled = try await pullAll().map(\.id)
        try expect(!pulled.contains(ConformanceFixtures.normalID), "the deleted record is still pulled")
        let read = try await source.read(ids: [ConformanceFixtures.normalID])
        try expect(read.isEmpty, "the deleted record is still read")
    }

    private func deleteIsIdempotent() async throws {
        let id = ConformanceFixtures.koreanID
        try expectOutcomes(try await writer.apply([delete(id)]), ["applied"], "first delete")
        try expectOutcomes(try await writer.apply([delete(id)]), ["alreadyGone"], "second delete")
    }

    private func deleteOfMissingIsAlreadyGone() async throws {
        let outcomes = try await writer.apply([
            delete(ConformanceFixtures.alreadyDeletedID), delete(ConformanceFixtures.unknownID),
        ])
        try expectOutcomes(outcomes, ["alreadyGone", "alreadyGone"], "delete of missing ids")
        try expectMatches(try await pullAll(), ConformanceFixtures.live)
    }

    private func deleteLeavesOthersUntouched() async throws {
        try expectOutcomes(try await writer.apply([delete(ConformanceFixtures.normalID)]), ["applied"], "delete")
        let others = ConformanceFixtures.live.filter { $0.id != ConformanceFixtures.normalID }
        try expectMatches(try await pullAll(), others)
    }

    private func eraseChangesOnlyListedFields() async throws {
        let id = ConformanceFixtures.koreanID
        try expectOutcomes(
            try await writer.apply([erase(id, ["interests", "marketing_consent"])]), ["applied"], "erase")
        var expected = ConformanceFixtures.live
        for index in expected.indices where expected[index].id == id {
            expected[index].fields["interests"] = ""
            expected[index].fields["marketing_consent"] = ""
        }
        try expectMatches(try await pullAll(), expected)
    }

    private func eraseIsIdempotent() async throws {
        let id = ConformanceFixtures.normalID
        try expectOutcomes(try await writer.apply([erase(id, ["email"])]), ["applied"], "first erase")
        try expectOutcomes(try await writer.apply([erase(id, ["email"])]), ["applied"], "second erase")
        var expected = try fixture(id)
        expected.fields["email"] = ""
        try expectMatches(try await source.read(ids: [id]), [expected])
    }

    private func eraseOfMissingIsAlreadyGone() async throws {
        let outcomes = try await writer.apply([
            erase(ConformanceFixtures.unknownID, ["email"]), erase(ConformanceFixtures.alreadyDeletedID, ["email"]),
        ])
        try expectOutcomes(outcomes, ["alreadyGone", "alreadyGone"], "erase of missing ids")
    }

    private func outcomesFollowOperationOrder() async throws {
        let outcomes = try await writer.apply([
            delete(ConformanceFixtures.normalID), delete(ConformanceFixtures.unknownID),
            erase(ConformanceFixtures.koreanID, ["phone"]), delete(ConformanceFixtures.normalID),
        ])
        try expectOutcomes(outcomes, ["applied", "alreadyGone", "applied", "alreadyGone"], "mixed call")
        let ids = try await pullAll().map(\.id)
        try expect(!ids.contains(ConformanceFixtures.normalID), "the deleted record is still pulled")
        let korean = try await source.read(ids: [ConformanceFixtures.koreanID])
        try expect(korean.count == 1 && korean[0].value("phone") == nil, "the erase of phone was not applied")
    }
}
