import Foundation
import RetentionCore
import RetentionTesting
import Testing

/// The re-check before a delete reads only the fields the policy evaluates; a source that cannot
/// decode less gets the default, which reads whole records and keeps those fields.
@Suite struct NarrowReadTests {
    @Test func theDefaultKeepsOnlyTheNamedFieldsOfEachRecord() async throws {
        let crm = InMemoryCRM([
            SourceRecord(id: "1", fields: ["created": "2020-01-01", "email": "a@x.kr", "name": "A"], line: 2),
            SourceRecord(id: "2", fields: ["email": "b@x.kr"], line: 3, defect: "expected 3 fields, found 1"),
        ])
        let records = try await crm.read(ids: ["2", "1", "9"], fields: ["created", "absent"])
        let byID = Dictionary(uniqueKeysWithValues: records.map { ($0.id, $0) })
        #expect(Set(byID.keys) == ["1", "2"])
        #expect(byID["1"]?.fields == ["created": "2020-01-01"])
        #expect(byID["1"]?.line == 2)
        #expect(byID["2"]?.fields.isEmpty == true)
        #expect(byID["2"]?.defect == "expected 3 fields, found 1")
    }
}
