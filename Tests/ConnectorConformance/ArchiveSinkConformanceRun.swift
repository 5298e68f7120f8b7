import Foundation
import RetentionCore

/// Runs one archive-sink check against fresh sinks from `subject`. Returns `.notApplicable` for a
/// check the subject excludes; throws a `SinkConformanceFailure` describing what did not hold, or
/// the sink's own unexpected error. Durability (an entry survives a crash once `archive` returns)
/// is out of the suite's reach: each sink tests it itself.
@discardableResult
public func runSinkConformance(
    _ check: SinkConformanceCheck, subject: some ArchiveSinkConformanceSubject
) async throws -> SinkConformanceOutcome {
    guard check.sink == .archive else {
        throw SinkConformanceFailure(check: check, message: "a notice check cannot run against an archive sink")
    }
    if let reason = subject.exclusions[check] {
        guard !reason.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw SinkConformanceFailure(check: check, message: "an exclusion needs a written reason")
        }
        return .notApplicable(reason: reason)
    }
    try await ArchiveSinkConformanceRun(check: check, subject: subject).perform()
    return .passed
}

/// One check against the sinks one subject makes.
struct ArchiveSinkConformanceRun<Subject: ArchiveSinkConformanceSubject> {
    let check: SinkConformanceCheck
    let subject: Subject

    func perform() async throws {
        switch check {
        case .archiveReturnsReceipt: try await archiveReturnsReceipt()
        case .rearchiveStoresNothingNew: try await rearchiveStoresNothingNew()
        case .entriesReadBackExactly: try await entriesReadBackExactly()
        case .unsafeConnectorNameIsRefused: try await unsafeConnectorNameIsRefused()
        case .storageFailureIsTransient: try await storageFailureIsTransient()
        case .archiveErrorsHoldNoPersonalData: try await archiveErrorsHoldNoPersonalData()
        default: throw failure("not an archive check")
        }
    }

    // MARK: Checks

    private func archiveReturnsReceipt() async throws {
        let tested = try await subject.makeSink()
        let entries = [entry(1), entry(2)]
        let receipt = try await tested.sink.archive(entries)
        try expect(!receipt.isEmpty, "the receipt is empty")
        try expectNoPersonalData(in: receipt, of: entries, what: "the receipt")
        try expectStored(try await tested.archived(), entries)
    }

    private func rearchiveStoresNothingNew() async throws {
        let tested = try await subject.makeSink()
        let first = entry(1)
        let second = entry(2)
        let third = entry(3)
        _ = try await tested.sink.archive([first])
        _ = try await tested.sink.archive([first])
        _ = try await tested.sink.archive([first, second])
        _ = try await tested.sink.archive([third, third])
        try expectStored(try await tested.archived(), [first, second, third])
    }

    private func entriesReadBackExactly() async throws {
        let tested = try await subject.makeSink()
        var entries = [entry(1), entry(2), entry(3)]
        entries[1].fields = [:]
        entries[1].rules = []
        entries[2].connector = "other_connector-2.x"
        for entry in entries { _ = try await tested.sink.archive([entry]) }
        try expectStored(try await tested.archived(), entries)
    }

    private func unsafeConnectorNameIsRefused() async throws {
        let tested = try await subject.makeSink()
        for (index, name) in SinkConformanceFixtures.unsafeConnectorNames.enumerated() {
            let entries = [entry(2 * index), entry(2 * index + 1, connector: name)]
            let error = try await expectFailure(tested.sink, entries, "connector name #\(index + 1)")
            try expect(!error.isTransient, "connector name #\(index + 1): the failure \(error.code) is transient")
        }
        let stored = try await tested.archived()
        try expect(stored.isEmpty, "\(stored.count) entries stored from calls with an unsafe connector name")
    }

    private func storageFailureIsTransient() async throws {
        guard let broken = try await subject.makeBrokenSink() else {
            throw failure("the subject makes no broken sink; exclude the check with a reason instead")
        }
        let error = try await expectFailure(broken.sink, [entry(1)], "archive to broken storage")
        try expect(error.isTransient, "the storage failure \(error.code) is not transient")
        let stored = try await broken.archived()
        try expect(stored.isEmpty, "\(stored.count) entries stored in broken storage")
    }

    private func archiveErrorsHoldNoPersonalData() async throws {
        let tested = try await subject.makeSink()
        for (index, name) in SinkConformanceFixtures.unsafeConnectorNames.enumerated() {
            let entries = [entry(index, connector: name)]
            try expectNoPersonalData(
                in: try await expectFailure(tested.sink, entries, "connector name #\(index + 1)"), of: entries)
        }
        if subject.exclusions[.storageFailureIsTransient] == nil, let broken = try await subject.makeBrokenSink() {
            let entries = [entry(1)]
            try expectNoPersonalData(
                in: try await expectFailure(broken.sink, entries, "archive to broken storage"), of: entries)
        }
    }

    // MARK: Helpers

    private func entry(_ number: Int, connector: String = SinkConformanceFixtures.connector) -> ArchiveEntry {
        SinkConformanceFixtures.entry(check, number, connector: connector)
    }

    private func failure(_ message: String) -> SinkConformanceFailure {
        SinkConformanceFailure(check: check, message: message)
    }

    private func expect(_ condition: Bool, _ message: @autoclosure () -> String) throws {
        if !condition { throw failure(message()) }
    }

    /// The `ConnectorFailure` archiving `entries` throws; fails when it succeeds or throws another error.
    private func expectFailure(
        _ sink: any ArchiveSink, _ entries: [ArchiveEntry], _ step: String
    ) async throws -> any ConnectorFailure {
        do {
            _ = try await sink.archive(entries)
        } catch let error as any ConnectorFailure {
            return error
        } catch {
            throw failure("\(step): the error is not a ConnectorFailure (\(type(of: error)))")
        }
        throw failure("\(step): archiving succeeded")
    }

    /// Each expected entry stored exactly once (in any order), equal in every field, the date to the
    /// millisecond. Names operation ids and field names, never values.
    private func expectStored(_ actual: [ArchiveEntry], _ expected: [ArchiveEntry]) throws {
        let actualIDs = actual.map(\.operationID).sorted()
        let expectedIDs = expected.map(\.operationID).sorted()
        try expect(actualIDs == expectedIDs, "stored operation ids \(actualIDs), expected \(expectedIDs)")
        for entry in expected {
            guard let found = actual.first(where: { $0.operationID == entry.operationID }) else { continue }
            let differing =
                [
                    ("connector", found.connector == entry.connector),
                    ("recordID", found.recordID == entry.recordID),
                    ("reference", found.reference == entry.reference),
                    ("rules", found.rules == entry.rules),
                    ("archivedAt", Self.milliseconds(found.archivedAt) == Self.milliseconds(entry.archivedAt)),
                ].filter { !$0.1 }.map(\.0)
                + Set(found.fields.keys).union(entry.fields.keys).sorted().filter {
                    found.fields[$0] != entry.fields[$0]
                }
                .map { "fields[\($0)]" }
            try expect(differing.isEmpty, "\(entry.operationID): \(differing) differ after reading back")
        }
    }

    private static func milliseconds(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1000).rounded())
    }

    private func expectNoPersonalData(in error: any ConnectorFailure, of entries: [ArchiveEntry]) throws {
        try expectNoPersonalData(
            in: "\(error.code) \(error.message) \(error) \(String(reflecting: error))", of: entries,
            what: "the error \(error.code)")
    }

    /// Neither a record id, a reference, a field value (longer than 3 characters) nor a secret of the
    /// subject appears in `text`.
    private func expectNoPersonalData(in text: String, of entries: [ArchiveEntry], what: String) throws {
        for entry in entries {
            let forbidden = [entry.recordID, entry.reference] + entry.fields.values.filter { $0.count > 3 }
            for value in forbidden where text.contains(value) {
                throw failure("\(what) of \(entry.operationID) contains personal data")
            }
        }
        for secret in subject.secrets where !secret.isEmpty && text.contains(secret) {
            throw failure("\(what) contains a secret of the subject")
        }
    }
}
