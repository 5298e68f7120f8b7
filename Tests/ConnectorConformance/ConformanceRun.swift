import Foundation
import RetentionCore

/// Runs one conformance check against a fresh instance of `subject`. Returns `.notApplicable` for
/// a check the subject excludes; throws a `ConformanceFailure` describing what did not hold (or
/// the connector's own error).
@discardableResult
public func runConformance(_ check: ConformanceCheck, subject: some ConformanceSubject) async throws
    -> ConformanceOutcome
{
    let underTest = try await subject.makeUnderTest(seededWith: ConformanceFixtures.world)
    guard let source = underTest.instance.source, let writer = underTest.instance.writer else {
        await underTest.instance.shutdown?()
        throw ConformanceFailure(check: check, message: "the subject must provide a source and a writer")
    }
    let run = ConformanceRun(check: check, source: source, writer: writer, underTest: underTest, secrets: subject.secrets)
    do {
        try await run.deleteAlreadyDeletedRecord()
        if let reason = subject.exclusions[check] {
            guard !reason.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                throw ConformanceFailure(check: check, message: "an exclusion needs a written reason")
            }
            await underTest.instance.shutdown?()
            return .notApplicable(reason: reason)
        }
        try await run.perform()
    } catch {
        try? await underTest.backend?.clearFaults()
        await underTest.instance.shutdown?()
        throw error
    }
    await underTest.instance.shutdown?()
    return .passed
}

/// One check against one seeded instance.
struct ConformanceRun {
    let check: ConformanceCheck
    let source: any RecordSource
    let writer: any RecordWriter
    let underTest: SourceUnderTest
    let secrets: [String]

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
        case .rereadSeesChangeAfterList: try await rereadSeesChangeAfterList()
        case .batchAnswerLeavingIDsOutDeletesOnlyTheRest: try await batchAnswerLeavingIDsOutDeletesOnlyTheRest()
        case .wholeRequestFailureGivesNoVerdict: try await wholeRequestFailureGivesNoVerdict()
        case .errorsAreClassified: try await errorsAreClassified()
        case .errorsHoldNoSecretOrPersonalData: try await errorsHoldNoSecretOrPersonalData()
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
        let records = try await read([ConformanceFixtures.normalID, ConformanceFixtures.koreanID])
        var normal = try fixture(ConformanceFixtures.normalID)
        normal.fields["marketing_consent"] = "N"
        normal.fields["interests"] = ""
        try expectMatches(records, [normal, try fixture(ConformanceFixtures.koreanID)])
    }

    private func readOmitsMissingIDs() async throws {
        let records = try await read([
            ConformanceFixtures.unknownID, ConformanceFixtures.alreadyDeletedID, ConformanceFixtures.normalID,
        ])
        try expectMatches(records, [try fixture(ConformanceFixtures.normalID)])
        let none = try await read([ConformanceFixtures.unknownID])
        try expect(none.isEmpty, "read of an unknown id returned \(none.count) records")
    }

    private func deleteRemovesRecord() async throws {
        try expectOutcomes(try await writer.apply([delete(ConformanceFixtures.normalID)]), ["applied"], "delete")
        let pulled = try await pullAll().map(\.id)
        try expect(!pulled.contains(ConformanceFixtures.normalID), "the deleted record is still pulled")
        let read = try await read([ConformanceFixtures.normalID])
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
            expected[index].fields["marketing_consent"] = "N"
        }
        try expectMatches(try await pullAll(), expected)
    }

    private func eraseIsIdempotent() async throws {
        let id = ConformanceFixtures.normalID
        try expectOutcomes(try await writer.apply([erase(id, ["interests"])]), ["applied"], "first erase")
        try expectOutcomes(try await writer.apply([erase(id, ["interests"])]), ["applied"], "second erase")
        var expected = try fixture(id)
        expected.fields["interests"] = ""
        try expectMatches(try await read([id]), [expected])
    }

    private func eraseOfMissingIsAlreadyGone() async throws {
        let outcomes = try await writer.apply([
            erase(ConformanceFixtures.unknownID, ["interests"]), erase(ConformanceFixtures.alreadyDeletedID, ["interests"]),
        ])
        try expectOutcomes(outcomes, ["alreadyGone", "alreadyGone"], "erase of missing ids")
    }

    private func outcomesFollowOperationOrder() async throws {
        let outcomes = try await writer.apply([
            delete(ConformanceFixtures.normalID), delete(ConformanceFixtures.unknownID),
            erase(ConformanceFixtures.koreanID, ["interests"]), delete(ConformanceFixtures.normalID),
        ])
        try expectOutcomes(outcomes, ["applied", "alreadyGone", "applied", "alreadyGone"], "mixed call")
        let ids = try await pullAll().map(\.id)
        try expect(!ids.contains(ConformanceFixtures.normalID), "the deleted record is still pulled")
        let korean = try await read([ConformanceFixtures.koreanID])
        try expect(korean.count == 1 && korean[0].value("interests") == nil, "the erase of interests was not applied")
    }
}
