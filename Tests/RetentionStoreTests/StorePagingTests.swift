import Foundation
import RetentionCore
@testable import RetentionStore
import Testing

/// Paging in storage order and the unchanged-row shortcut of ingest.
@Suite struct StorePagingTests {
    let store: SQLiteStateStore
    let at = Date(timeIntervalSince1970: 1_800_000_000)

    init() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lethe-paging-\(UUID().uuidString)")
        store = try SQLiteStateStore(path: directory.appendingPathComponent("lethe.sqlite"))
    }

    func record(_ id: String, line: Int, name: String = "고객 \"x\"\n") -> SourceRecord {
        SourceRecord(id: id, fields: ["id": id, "name": name, "email": "\(id)@example.com"], line: line)
    }

    func allPages(limit: Int) async throws -> [StoredRecord] {
        var cursor: String?
        var seen: [StoredRecord] = []
        while true {
            let page = try await store.liveRecordPage(connector: "c", after: cursor, limit: limit)
            guard let next = page.next, !page.records.isEmpty else { break }
            #expect(page.records.count <= limit)
            seen += page.records
            cursor = next
        }
        return seen
    }

    @Test func pagesVisitEveryLiveRecordOnceAndSkipTombstones() async throws {
        let run = try await store.beginRun(connector: "c", asOf: at, dryRun: false)
        try await store.ingest(connector: "c", run: run, records: (0..<25).map { record("id-\($0)", line: $0 + 2) })
        try await store.ingest(connector: "other", run: run, records: [record("id-0", line: 2)])
        let next = try await store.beginRun(connector: "c", asOf: at, dryRun: false)
        try await store.ingest(connector: "c", run: next, records: (0..<20).map { record("id-\($0)", line: $0 + 2) })
        #expect(try await store.markUnseenGone(connector: "c", run: next, at: at) == 5)
        let seen = try await allPages(limit: 7)
        #expect(seen.map(\.recordID) == (0..<20).map { "id-\($0)" }, "arrival order, each once, tombstones skipped")
        #expect(seen.allSatisfy { $0.connector == "c" && $0.record?.fields["name"] == "고객 \"x\"\n" })
        #expect(try await allPages(limit: 100).count == 20)
    }

    @Test func reIngestingUpdatesChangedRowsAndMarksUnchangedOnesSeen() async throws {
        let first = try await store.beginRun(connector: "c", asOf: at, dryRun: false)
        try await store.ingest(connector: "c", run: first, records: [record("a", line: 2), record("b", line: 3), record("c", line: 4)])
        let ref = store.reference(connector: "c", recordID: "b")
        try await store.commit([RecordChange(connector: "c", reference: ref, state: LifecycleState(phase: .expiring), operations: [])], audit: [])

        let second = try await store.beginRun(connector: "c", asOf: at, dryRun: false)
        var changed = record("c", line: 4, name: "new name")
        changed.defect = nil
        try await store.ingest(connector: "c", run: second, records: [record("a", line: 5), record("b", line: 3), changed])
        #expect(try await store.markUnseenGone(connector: "c", run: second, at: at) == 0, "unchanged rows count as seen")
        let a = try #require(try await store.record(connector: "c", reference: store.reference(connector: "c", recordID: "a")))
        #expect(a.record?.line == 5)
        #expect(a.seenRun == second)
        let b = try #require(try await store.record(connector: "c", reference: ref))
        #expect(b.seenRun == second)
        #expect(b.state?.phase == .expiring, "the lifecycle survives re-ingest")
        #expect(b.record == record("b", line: 3))
        let c = try #require(try await store.record(connector: "c", reference: store.reference(connector: "c", recordID: "c")))
        #expect(c.record?.fields["name"] == "new name")

        var defective = record("a", line: 5)
        defective.defect = "wrong column count"
        let third = try await store.beginRun(connector: "c", asOf: at, dryRun: false)
        try await store.ingest(connector: "c", run: third, records: [defective])
        #expect(try await store.record(connector: "c", reference: store.reference(connector: "c", recordID: "a"))?.record?.defect == "wrong column count")
    }
}
