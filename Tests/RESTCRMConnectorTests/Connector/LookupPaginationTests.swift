import Foundation
@testable import RESTCRMConnector
import RetentionCore
import Testing

/// Lookups (option ids ↔ labels) read every page, by offset or by cursor, and resolve fields read
/// from a nested path by the path's last key.
struct LookupPaginationTests {
    static let manifest = """
        name: options
        baseURL: http://127.0.0.1:1
        list: {path: /items, pagination: {type: none}}
        lookups:
          fields:
            request: {path: /fields, query: {cursor: "{{cursor}}"}}
            records: data
            key: code
            pagination: {type: cursor, next: meta.next}
        mapping:
          records: data
          id: id
          fields:
            colour: {path: custom.c1, options: fields}
            size: {path: "custom.s1", options: fields}
        """

    static func fields(_ request: HTTPRequestSpec, repeatCursor: Bool = false) -> HTTPResult {
        switch Fixture.query(request, "cursor") {
        case nil:
            return Fixture.json(["data": [["code": "c1", "options": [["id": 1, "label": "red"]]]], "meta": ["next": "p2"]])
        default:
            return Fixture.json(["data": [["code": "s1", "options": [["id": 7, "label": "large"]]]],
                                 "meta": ["next": repeatCursor ? "p2" : NSNull() as Any]])
        }
    }

    @Test func aCursorPagedLookupResolvesNestedFieldsOnEveryPage() async throws {
        let transport = ScriptedTransport { request in
            request.path == "/fields" ? Self.fields(request)
                : Fixture.json(["data": [["id": "a", "custom": ["c1": 1, "s1": 7]]]])
        }
        let records = try await Fixture.collect(Fixture.connector(try Fixture.manifest(Self.manifest), transport)).flatMap(\.records)
        #expect(records.first?.fields == ["colour": "red", "size": "large"])
        #expect(transport.requests.filter { $0.path == "/fields" }.map { Fixture.query($0, "cursor") } == [nil, "p2"])
    }

    @Test func aLookupThatRepeatsItsCursorFailsThePull() async throws {
        let transport = ScriptedTransport { request in
            request.path == "/fields" ? Self.fields(request, repeatCursor: true) : Fixture.json(["data": [["id": "a"]]])
        }
        let connector = Fixture.connector(try Fixture.manifest(Self.manifest), transport)
        await #expect {
            _ = try await Fixture.collect(connector)
        } throws: { error in
            (error as? RESTCRMConnectorError)?.code == "rest.pagination_loop"
        }
        #expect(transport.requests.filter { $0.path == "/fields" }.count == 2)
    }
}
