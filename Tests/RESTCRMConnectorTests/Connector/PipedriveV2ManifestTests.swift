import Foundation
@testable import RESTCRMConnector
import RetentionCore
import Testing

/// `config/connectors/pipedrive.yaml` (API v2) against scripted answers in the documented v2 shapes:
/// cursor pages, RFC 3339 times, `emails` objects, custom fields under `custom_fields`.
struct PipedriveV2ManifestTests {
    static let keys = Fixture.pipedriveKeys

    static func person(_ id: Int, updated: String = "2024-01-01T00:00:00Z", deleted: Bool = false) -> [String: Any] {
        ["id": id, "name": "김민준", "is_deleted": deleted, "add_time": "2019-03-04T09:15:00Z", "update_time": updated,
         "emails": [["value": "w\(id)@example.com", "primary": false, "label": "work"],
                    ["value": "h\(id)@example.com", "primary": true, "label": "home"]],
         "phones": [] as [Any],
         "custom_fields": [keys["PIPEDRIVE_FIELD_PURPOSE"]!: [31, 33], keys["PIPEDRIVE_FIELD_MARKETING_CONSENT"]!: 41,
                           keys["PIPEDRIVE_FIELD_INTERESTS"]!: "hiking", keys["PIPEDRIVE_FIELD_CONSENT_EXTENDED_AT"]!: "2026-02-01"]]
    }

    /// `GET /api/v2/personFields`, two cursor pages.
    static func personFields(_ request: HTTPRequestSpec) -> HTTPResult {
        let first: [[String: Any]] = [
            ["field_code": "name", "field_name": "Name", "field_type": "varchar", "options": NSNull()],
            ["field_code": keys["PIPEDRIVE_FIELD_PURPOSE"]!, "field_name": "Lethe purpose", "field_type": "set",
             "options": [["id": 31, "label": "payment"], ["id": 32, "label": "dispute"], ["id": 33, "label": "marketing"]]],
        ]
        let second: [[String: Any]] = [
            ["field_code": keys["PIPEDRIVE_FIELD_MARKETING_CONSENT"]!, "field_name": "Lethe consent", "field_type": "enum",
             "options": [["id": 41, "label": "Yes"], ["id": 42, "label": "No"]]],
        ]
        let onSecond = Fixture.query(request, "cursor") == "f2"
        return Fixture.json(["success": true, "data": onSecond ? second : first,
                             "additional_data": ["next_cursor": onSecond ? NSNull() : "f2" as Any]])
    }

    /// Lists by `cursor` (the index of the next person, as text); `ids` picks persons.
    static func pipedrive(_ records: [[String: Any]], path: String = "/api/v2/persons") -> ScriptedTransport {
        nonisolated(unsafe) let people = records
        return ScriptedTransport { request in
            if request.path == "/api/v2/personFields" { return Self.personFields(request) }
            guard request.path == path else { return Fixture.json(["success": false, "error": "Unknown method .", "errorCode": 404], status: 404) }
            if let ids = Fixture.query(request, "ids") {
                let wanted = Set(ids.split(separator: ",").map(String.init))
                let found = people.filter { wanted.contains("\($0["id"]!)") && $0["is_deleted"] as? Bool != true }
                return Fixture.json(["success": true, "data": found, "additional_data": ["next_cursor": NSNull()]])
            }
            let start = Int(Fixture.query(request, "cursor") ?? "0")!
            let limit = Int(Fixture.query(request, "limit") ?? "100")!
            let page = Array(people.dropFirst(start).prefix(limit))
            let next: Any = start + limit < people.count ? String(start + limit) : NSNull()
            return Fixture.json(["success": true, "data": page, "additional_data": ["next_cursor": next]])
        }
    }

    static func connector(_ transport: ScriptedTransport) throws -> RESTCRMConnector {
        Fixture.connector(try Fixture.shipped("pipedrive", environment: Fixture.environment), transport)
    }

    @Test func pagesByCursorAndMapsRFC3339DatesEmailObjectsAndOptionIds() async throws {
        let transport = Self.pipedrive((1...1200).map { Self.person($0, deleted: $0 == 5) })
        let records = try await Fixture.collect(try Self.connector(transport)).flatMap(\.records)
        #expect(records.count == 1199, "a person with is_deleted true is gone")
        let lists = transport.requests.filter { $0.path == "/api/v2/persons" }
        #expect(lists.map { Fixture.query($0, "cursor") } == [nil, "500", "1000"])
        #expect(lists.allSatisfy { Fixture.query($0, "limit") == "500" })
        #expect(Fixture.query(lists[0], "custom_fields")?.split(separator: ",").count == 4)
        #expect(transport.requests.allSatisfy { !$0.query.contains { $0.name == "api_token" } })
        let first = records[0]
        #expect(first.fields["purpose"] == "payment;marketing")
        #expect(first.fields["marketing_consent"] == "Yes")
        #expect(first.fields["email"] == "h1@example.com")
        #expect(first.fields["interests"] == "hiking")
        #expect(first.fields["created_at"] == "2019-03-04T09:15:00Z")
        #expect(first.fields["updated_at"] == "2024-01-01T00:00:00Z")
        #expect(first.fields["consent_extended_at"] == "2026-01-31T15:00:00Z", "a Korean calendar date")
    }

    @Test func incrementalFiltersByUpdatedSinceInRFC3339() async throws {
        let transport = Self.pipedrive((1...3).map { Self.person($0, updated: "2025-02-01T00:00:0\($0)Z") })
        let batches = try await Fixture.collect(
            try Self.connector(transport), PullRequest(watermark: "2025-01-01T00:00:00.250Z", full: false))
        #expect(batches.flatMap(\.records).count == 3)
        #expect(batches.last?.watermark == "2025-02-01T00:00:03Z")
        let list = try #require(transport.requests.last { $0.path == "/api/v2/persons" })
        #expect(Fixture.query(list, "updated_since") == "2025-01-01T00:00:00Z")
        #expect(Fixture.query(list, "sort_by") == "update_time")
        #expect(Fixture.query(list, "sort_direction") == "asc")
    }

    @Test func theReCheckReadsAHundredIdsACallAndALeftOutIdIsGone() async throws {
        let transport = Self.pipedrive((1...250).map { Self.person($0, deleted: $0 == 7) })
        let ids = (1...251).map(String.init)
        let records = try await Self.connector(transport).read(ids: ids)
        #expect(records.count == 249, "7 is deleted and 251 does not exist")
        let reads = transport.requests.filter { Fixture.query($0, "ids") != nil }
        #expect(reads.map { Fixture.query($0, "ids")!.split(separator: ",").count } == [100, 100, 51])
    }

    @Test func aBatchReadThatFailsAsAWholeGoneNothing() async throws {
        let transport = Self.pipedrive([Self.person(1)], path: "/api/v2/elsewhere")
        await #expect(throws: RESTCRMConnectorError.self) { try await Self.connector(transport).read(ids: ["1"]) }
    }

    @Test func erasureWritesIntegerOptionIdsAndNullsUnderCustomFields() async throws {
        let base = Self.pipedrive([])
        let transport = ScriptedTransport { request in
            request.method == "PATCH" ? Fixture.json(["success": true, "data": ["id": 7]]) : base.answer(request)
        }
        _ = try await Self.connector(transport).apply([WriteOperation(id: "op", kind: .eraseFields, recordID: "7", fields: [
            ErasedField(field: "interests", value: ""), ErasedField(field: "marketing_consent", value: "N"),
        ])])
        let patch = try #require(transport.requests.first { $0.method == "PATCH" })
        #expect(patch.path == "/api/v2/persons/7")
        let body = Fixture.body(patch)
        #expect(body.count == 1)
        let custom = try #require(body["custom_fields"] as? [String: Any])
        #expect(custom[Self.keys["PIPEDRIVE_FIELD_MARKETING_CONSENT"]!] as? Int == 42)
        #expect(custom[Self.keys["PIPEDRIVE_FIELD_INTERESTS"]!] is NSNull)
        #expect(custom.count == 2)
        #expect(String(data: patch.body!, encoding: .utf8)!.contains(#":42"#), "a number, not \"42\"")
    }

    @Test func extensionWritesAKoreanDateAndTheYesOptionId() async throws {
        let base = Self.pipedrive([])
        let transport = ScriptedTransport { request in
            request.method == "PATCH" ? Fixture.json(["success": true, "data": ["id": 42]]) : base.answer(request)
        }
        _ = try await Self.connector(transport).apply([ExtendWriteTests.extend])
        let patch = try #require(transport.requests.first { $0.method == "PATCH" })
        let custom = try #require(Fixture.body(patch)["custom_fields"] as? [String: Any])
        #expect(custom[Self.keys["PIPEDRIVE_FIELD_CONSENT_EXTENDED_AT"]!] as? String == "2026-12-01")
        #expect(custom[Self.keys["PIPEDRIVE_FIELD_MARKETING_CONSENT"]!] as? Int == 41)
    }

    @Test func deletesOnePersonACallSoftForThirtyDaysAndA404IsAlreadyGone() async throws {
        let transport = ScriptedTransport { request in
            if request.path == "/api/v2/persons/3" { return Fixture.json(["success": false, "error": "not found", "errorCode": 404], status: 404) }
            if request.path == "/api/v2/persons/4" { return Fixture.json(["success": false, "error": "Internal server error", "errorCode": 500], status: 500) }
            return Fixture.json(["success": true, "data": ["id": 1]])
        }
        let connector = try Self.connector(transport)
        let outcomes = try await connector.apply((1...4).map { WriteOperation(id: "op\($0)", kind: .delete, recordID: String($0)) })
        guard case .deleted(let receipt) = outcomes[0], case .deleted = outcomes[1], case .alreadyGone = outcomes[2] else {
            Issue.record("unexpected outcomes \(outcomes)")
            return
        }
        if case .deleted = outcomes[3] { Issue.record("a 500 is not a delete") }
        #expect(receipt.mode == .soft)
        let now = DateParser(zone: TimeZone(secondsFromGMT: 0)!).parse("2026-11-29T00:00:00Z")!
        #expect(receipt.restorableUntil.map { $0.timeIntervalSince(now) / 86_400 } == 30)
        #expect(transport.requests.allSatisfy { $0.method == "DELETE" && $0.path.hasPrefix("/api/v2/persons/") })
    }
}
