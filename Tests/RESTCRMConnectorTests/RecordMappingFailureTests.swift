import RetentionTesting
import Foundation
@testable import RESTCRMConnector
import RetentionCore
import Testing

struct RecordMappingFailureTests {
    static let mapping: TestYAML = ["records": "results", "id": "id", "fields": ["email": "properties.email"]]

    static func failure(_ body: String) throws -> RESTCRMConnectorError {
        let mapping = try RecordMapping(config: Self.mapping.node())
        let error = #expect(throws: RESTCRMConnectorError.self) {
            try mapping.records(fromListResponse: Data(body.utf8))
        }
        return try #require(error)
    }

    static let secret = "leak@example.com"

    @Test(arguments: [
        #"{"results": [{"id": "1", "properties": {"email": "leak@example.com"}}"#,  // truncated
        #"{"results": [{"id": "1", "properties": {"email": "leak@example.com""#,
        "<html>leak@example.com 502 Bad Gateway</html>",
        "",
        #"{"results": [{"id": "1", "properties": {"email": "leak@example.com"}}]} trailing leak@example.com"#,
    ])
    func malformedOrTruncatedBodyIsTransientAndSaysNothingOfTheBody(body: String) throws {
        let error = try Self.failure(body)
        #expect(error.code == "rest.bad_body")
        #expect(error.isTransient)
        #expect(error.category == .transient)
        #expect(error.message.contains("not valid JSON"))
        #expect(!error.message.contains(Self.secret))
        #expect(!error.message.contains("leak"))
    }

    @Test(arguments: [
        (#"{"status": "error", "message": "leak@example.com", "category": "RATE_LIMITS"}"#, "no record array at 'results'"),
        (#"{"results": {"id": "leak@example.com"}}"#, "expected an array at 'results', found an object"),
        (#"{"results": "leak@example.com"}"#, "expected an array at 'results', found a string"),
        (#"[{"id": "leak@example.com"}]"#, "no record array at 'results'"),
    ])
    func missingOrWrongRecordArrayFails(body: String, problem: String) throws {
        let error = try Self.failure(body)
        #expect(error.code == "rest.bad_body")
        #expect(error.isTransient)
        #expect(error.message.contains(problem))
        #expect(!error.message.contains("leak"))
    }

    @Test func nonArrayBodyWithoutRecordsPathFails() throws {
        let mapping = try RecordMapping(config: (["id": "id"] as TestYAML).node())
        let error = #expect(throws: RESTCRMConnectorError.self) {
            try mapping.records(fromListResponse: Data(#"{"id": "1"}"#.utf8))
        }
        #expect(error?.message.contains("expected an array at the top level, found an object") == true)
    }
}
