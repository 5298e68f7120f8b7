import CSVConnector
import Foundation
import RetentionCore
import Testing

@Suite struct CSVLargeFileTests {
    /// Row `index`; every 997th has a quoted multi-line note, so some rows straddle 1 MiB chunks.
    static func row(_ index: Int) -> String {
        let note = index % 997 == 0 ? "\"line one\r\nline, two\"" : "note \(index)"
        return "id-\(index),Person \(index),p\(index)@example.com,2024-01-\(10 + index % 19),\(note)\r\n"
    }

    @Test func fiftyThousandRowsStreamAndRewriteCorrectly() async throws {
        let folder = try TemporaryFolder()
        let count = 50_000
        var text = "id,name,email,created_at,note\r\n"
        var lines: [Int] = []
        var line = 2
        for index in 0..<count {
            lines.append(line)
            line += index % 997 == 0 ? 2 : 1
            text += Self.row(index)
        }
        let file = try folder.file("big.csv", text)
        let source = connector(file)

        var batches = 0
        var records: [SourceRecord] = []
        for try await batch in source.pull(PullRequest()) {
            #expect(batch.records.count <= 1000)
            batches += 1
            records += batch.records
        }
        #expect(batches == 50)
        #expect(records.count == count)
        #expect(records.map(\.id) == (0..<count).map { "id-\($0)" })
        #expect(records.map(\.line) == lines)
        #expect(records.allSatisfy { $0.defect == nil })
        #expect(records[997].fields["note"] == "line one\r\nline, two")
        #expect(records[49_999].fields["email"] == "p49999@example.com")

        let deleted: Set<Int> = [0, 997, 25_000, 49_999]
        var operations = deleted.sorted().map { delete("id-\($0)") }
        operations.append(erase("id-30000", ["email": ""]))
        let outcomes = try await source.apply(operations)
        #expect(names(outcomes) == Array(repeating: "applied", count: 5))

        var expected = "id,name,email,created_at,note\r\n"
        for index in 0..<count where !deleted.contains(index) {
            expected +=
                index == 30_000
                ? Self.row(index).replacingOccurrences(of: "p30000@example.com", with: "") : Self.row(index)
        }
        #expect(try bytes(of: file) == Array(expected.utf8))
        #expect(try folder.names() == ["big.csv"])
        let reread = try await source.read(ids: ["id-30000", "id-25000", "id-25001"])
        #expect(reread.map(\.id) == ["id-25001", "id-30000"])
        #expect(reread.last?.fields["email"] == "")
    }
}
