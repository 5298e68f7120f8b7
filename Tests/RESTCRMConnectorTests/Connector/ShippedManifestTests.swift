import Foundation
@testable import RESTCRMConnector
import RetentionCore
import Synchronization
import Testing

/// The shipped manifests against in-process answers shaped like each provider's documented ones.
struct ShippedManifestTests {
    // MARK: HubSpot

    static func hubspotContact(_ id: Int) -> [String: Any] {
        ["id": String(id), "archived": false,
         "properties": ["email": "p\(id)@example.com", "firstname": "민준", "createdate": "2020-01-0\(id % 9 + 1)T00:00:00.000Z",
                        "lastmodifieddate": "2024-01-01T00:00:\(String(format: "%02d", id % 60)).000Z",
                        "lethe_purpose": "payment;marketing", "lethe_marketing_consent": "true", "hs_object_id": String(id)]]
    }

    @Test func hubspotListPagesByCursorAndMapsProperties() async throws {
        let transport = ScriptedTransport { request in
            let after = Int(Fixture.query(request, "after") ?? "0")!
            let limit = Int(Fixture.query(request, "limit")!)!
            let ids = Array((after + 1)...min(after + limit, 250))
            var body: [String: Any] = ["results": ids.map(Self.hubspotContact)]
            if ids.last! < 250 { body["paging"] = ["next": ["after": String(ids.last!), "link": "..."]] }
            return Fixture.json(body)
        }
        let connector = Fixture.connector(try Fixture.shipped("hubspot"), transport)
        let batches = try await Fixture.collect(connector)
        let records = batches.flatMap(\.records)
        #expect(records.count == 250)
        #expect(transport.requests.count == 3)
        #expect(transport.requests.allSatisfy { $0.method == "GET" && $0.path == "/crm/v3/objects/contacts" })
        #expect(Fixture.query(transport.requests[0], "after") == nil)
        #expect(Fixture.query(transport.requests[1], "after") == "100")
        #expect(records[0].fields["created_at"] == "2020-01-02T00:00:00Z")
        #expect(records[0].fields["purpose"] == "payment;marketing")
        #expect(records[0].fields["name"] == "민준")
        #expect(batches.last?.watermark == "2024-01-01T00:00:59Z")
    }

    @Test func hubspotIncrementalSearchRestartsAtTheCap() async throws {
        // 25 records changed after the watermark; a cap of 10 per query forces restarts.
        var manifest = try Fixture.shipped("hubspot")
        manifest.incremental?.cap = 10
        manifest.incremental?.list.pageSize = 4
        nonisolated(unsafe) let changed = (1...25).map { id -> [String: Any] in
            var contact = Self.hubspotContact(id)
            var properties = contact["properties"] as! [String: Any]
            properties["lastmodifieddate"] = String(format: "2025-01-01T00:%02d:00.000Z", id)
            contact["properties"] = properties
            return contact
        }
        let transport = ScriptedTransport { request in
            let body = Fixture.body(request)
            let filter = ((body["filterGroups"] as! [[String: Any]])[0]["filters"] as! [[String: Any]])[0]
            let since = Int64(filter["value"] as! String)!
            let offset = Int(body["after"] as? String ?? "0")!
            let limit = body["limit"] as! Int
            guard offset < 10 else { return Fixture.json(["status": "error", "category": "VALIDATION_ERROR"], status: 400) }
            let matching = changed.filter { contact in
                let text = (contact["properties"] as! [String: Any])["lastmodifieddate"] as! String
                return Int64(DateParser(zone: .gmt).parse(text)!.timeIntervalSince1970 * 1000) >= since
            }
            let page = Array(matching.dropFirst(offset).prefix(limit))
            var answer: [String: Any] = ["total": matching.count, "results": page]
            if offset + limit < matching.count { answer["paging"] = ["next": ["after": String(offset + limit)]] }
            return Fixture.json(answer)
        }
        let connector = Fixture.connector(manifest, transport)
        let batches = try await Fixture.collect(connector, PullRequest(watermark: "2024-12-31T00:00:00Z", full: false))
        let ids = batches.flatMap(\.records).map(\.id)
        #expect(Set(ids) == Set((1...25).map(String.init)))
        #expect(ids.count == 25, "restarts re-read the boundary record but yield it once")
        #expect(transport.requests.allSatisfy { $0.method == "POST" && $0.path == "/crm/v3/objects/contacts/search" })
        #expect(batches.last?.watermark == "2025-01-01T00:25:00Z")
    }

    @Test func hubspotDeletesInBatchesOfAHundredAndUpdatesOnlyChangedProperties() async throws {
        let transport = ScriptedTransport { request in
            if request.path.hasSuffix("/batch/archive") { return HTTPResult(status: 204) }
            if request.method == "PATCH" { return Fixture.json(Self.hubspotContact(1)) }
            return HTTPResult(status: 500)
        }
        let connector = Fixture.connector(try Fixture.shipped("hubspot"), transport)
        var operations = (1...150).map { WriteOperation(id: "op-\($0)", kind: .delete, recordID: String($0)) }
        operations.append(WriteOperation(id: "op-erase", kind: .eraseFields, recordID: "7", fields: [
            ErasedField(field: "interests", value: ""), ErasedField(field: "marketing_consent", value: "N"),
        ]))
        let outcomes = try await connector.apply(operations)
        #expect(outcomes.count == 151)
        let archives = transport.requests.filter { $0.path.hasSuffix("/batch/archive") }
        #expect(archives.count == 2)
        #expect((Fixture.body(archives[0])["inputs"] as! [[String: String]]).count == 100)
        #expect((Fixture.body(archives[0])["inputs"] as! [[String: String]])[0] == ["id": "1"])
        guard case .deleted(let receipt) = outcomes[0] else { Issue.record("expected a deletion"); return }
        #expect(receipt.mode == .soft)
        #expect(receipt.restorableUntil == DateParser(zone: .gmt).parse("2027-02-27T00:00:00Z"))
        let patch = try #require(transport.requests.first { $0.method == "PATCH" })
        #expect(patch.path == "/crm/v3/objects/contacts/7")
        #expect(Fixture.body(patch)["properties"] as? [String: String] == ["lethe_interests": "", "lethe_marketing_consent": "false"])
        guard case .applied = outcomes[150] else { Issue.record("expected the erasure applied"); return }
    }

    @Test func hubspotBatchReadSkipsMissingIds() async throws {
        let transport = ScriptedTransport { request in
            let inputs = Fixture.body(request)["inputs"] as! [[String: String]]
            let found = inputs.compactMap { Int($0["id"]!) }.filter { $0 % 2 == 0 }
            return Fixture.json(["status": "COMPLETE", "results": found.map(Self.hubspotContact),
                                 "errors": [["status": "error", "category": "OBJECT_NOT_FOUND"]]], status: 207)
        }
        let connector = Fixture.connector(try Fixture.shipped("hubspot"), transport)
        let records = try await connector.read(ids: (1...150).map(String.init))
        #expect(records.map(\.id) == (1...150).filter { $0 % 2 == 0 }.map(String.init))
        #expect(transport.requests.count == 2)
    }

    // MARK: Salesforce

    static func salesforceContact(_ id: String, modified: String = "2024-01-01T00:00:00.000+0000") -> [String: Any] {
        ["attributes": ["type": "Contact", "url": "/services/data/v60.0/sobjects/Contact/\(id)"], "Id": id,
         "Email": "\(id)@example.com", "LastName": "김", "CreatedDate": "2019-03-04T09:15:00.000+0000", "LastModifiedDate": modified,
         "Lethe_Purpose__c": "payment;marketing", "Lethe_Marketing_Consent__c": true, "Lethe_Interests__c": "golf",
         "Lethe_Consent_Extended_At__c": NSNull()]
    }

    @Test func salesforceFollowsNextRecordsUrl() async throws {
        let transport = ScriptedTransport { request in
            if request.path == "/services/data/v60.0/query" {
                #expect(Fixture.query(request, "q")?.hasPrefix("SELECT Id, Email") == true)
                #expect(request.headers.contains { $0.name == "Sforce-Query-Options" && $0.value == "batchSize=2000" })
                return Fixture.json(["totalSize": 3, "done": false, "records": [Self.salesforceContact("003A"), Self.salesforceContact("003B")],
                                     "nextRecordsUrl": "/services/data/v60.0/query/01gD-2000"])
            }
            #expect(request.path == "/services/data/v60.0/query/01gD-2000")
            return Fixture.json(["totalSize": 3, "done": true, "records": [Self.salesforceContact("003C")]])
        }
        let connector = Fixture.connector(try Fixture.shipped("salesforce"), transport)
        let records = try await Fixture.collect(connector).flatMap(\.records)
        #expect(records.map(\.id) == ["003A", "003B", "003C"])
        #expect(records[0].fields["created_at"] == "2019-03-04T09:15:00Z")
        #expect(records[0].fields["marketing_consent"] == "true")
        #expect(records[0].fields["consent_extended_at"] == nil)
        #expect(transport.requests.count == 2)
    }

    @Test func salesforceIncrementalQueryCarriesTheWatermarkToTheSecond() async throws {
        let transport = ScriptedTransport { _ in Fixture.json(["totalSize": 0, "done": true, "records": []]) }
        let connector = Fixture.connector(try Fixture.shipped("salesforce"), transport)
        _ = try await Fixture.collect(connector, PullRequest(watermark: "2025-03-04T09:15:00.250Z", full: false))
        let soql = try #require(Fixture.query(transport.requests[0], "q"))
        #expect(soql.hasSuffix("WHERE LastModifiedDate >= 2025-03-04T09:15:00Z ORDER BY LastModifiedDate ASC"))
    }

    @Test func salesforceCompositeDeleteReadsPerItemResults() async throws {
        let transport = ScriptedTransport { request in
            #expect(request.method == "DELETE" && request.path == "/services/data/v60.0/composite/sobjects")
            #expect(Fixture.query(request, "allOrNone") == "false")
            let ids = Fixture.query(request, "ids")!.split(separator: ",").map(String.init)
            return Fixture.json(ids.map { id -> [String: Any] in
                switch id {
                case "003GONE": return ["id": id, "success": false, "errors": [["statusCode": "ENTITY_IS_DELETED", "message": "entity is deleted", "fields": []]]]
                case "003LOCK": return ["id": id, "success": false, "errors": [["statusCode": "DELETE_FAILED", "message": "x", "fields": []]]]
                default: return ["id": id, "success": true, "errors": []]
                }
            })
        }
        let connector = Fixture.connector(try Fixture.shipped("salesforce"), transport)
        let ids = (1...250).map { "003\($0)" } + ["003GONE", "003LOCK"]
        let outcomes = try await connector.apply(ids.map { WriteOperation(id: "op-\($0)", kind: .delete, recordID: $0) })
        #expect(transport.requests.count == 2, "≤200 ids per composite call")
        guard case .deleted(let receipt) = outcomes[0], case .alreadyGone = outcomes[250], case .failed(let failure) = outcomes[251] else {
            Issue.record("unexpected outcomes")
            return
        }
        #expect(receipt.mode == .soft)
        #expect(!failure.isTransient)
        #expect(!failure.message.contains("003LOCK"))
    }

    /// `UNABLE_TO_LOCK_ROW` is a passing lock (`errors.transient` in salesforce.yaml): that record's
    /// delete fails transient and is retried; other refusals stay permanent.
    @Test func salesforceLockedRowIsATransientFailureOfThatRecordOnly() async throws {
        let transport = ScriptedTransport { request in
            let ids = Fixture.query(request, "ids")!.split(separator: ",").map(String.init)
            return Fixture.json(ids.map { id -> [String: Any] in
                let code = ["003LOCK": "UNABLE_TO_LOCK_ROW", "003DENY": "INSUFFICIENT_ACCESS_OR_READONLY"][id]
                guard let code else { return ["id": id, "success": true, "errors": []] }
                return ["id": id, "success": false, "errors": [["statusCode": code, "message": "unable to obtain exclusive access", "fields": []]]]
            })
        }
        let connector = Fixture.connector(try Fixture.shipped("salesforce"), transport)
        let outcomes = try await connector.apply(["003A", "003LOCK", "003DENY"].map { WriteOperation(id: "op-\($0)", kind: .delete, recordID: $0) })
        guard case .deleted = outcomes[0], case .failed(let locked) = outcomes[1], case .failed(let denied) = outcomes[2] else {
            Issue.record("unexpected outcomes \(outcomes)")
            return
        }
        #expect(locked.code == "rest.item_failed" && locked.isTransient)
        #expect(locked.message.contains("UNABLE_TO_LOCK_ROW") && !locked.message.contains("exclusive"))
        #expect(denied.code == "rest.item_failed" && !denied.isTransient)
        #expect(try Fixture.shipped("salesforce").http.transientCodes == ["UNABLE_TO_LOCK_ROW"])
    }

    /// A whole request refused with a listed code (a single update of a locked row) is transient too.
    @Test func salesforceLockedRowRefusingARequestIsTransient() async throws {
        let client = try RESTHTTPClient(configuration: try Fixture.shipped("salesforce").http, log: { _, _, _ in })
        let request = HTTPRequestSpec(method: "PATCH", path: "/services/data/v60.0/sobjects/Contact/003A",
                                      displayPath: "/services/data/v60.0/sobjects/Contact/{{id}}")
        let locked = Fixture.json([["errorCode": "UNABLE_TO_LOCK_ROW", "message": "unable to obtain exclusive access"]], status: 400)
        let invalid = Fixture.json([["errorCode": "INVALID_FIELD", "message": "no such column"]], status: 400)
        let lockedFailure = client.failure(for: request, result: locked)
        #expect(lockedFailure.isTransient && lockedFailure.code == "rest.http_400")
        #expect(!client.failure(for: request, result: invalid).isTransient)
        try await client.shutdown()
    }

    @Test func salesforceUpdateWritesABooleanAndNull() async throws {
        let transport = ScriptedTransport { _ in HTTPResult(status: 204) }
        let connector = Fixture.connector(try Fixture.shipped("salesforce"), transport)
        let outcomes = try await connector.apply([WriteOperation(id: "op", kind: .eraseFields, recordID: "003X", fields: [
            ErasedField(field: "interests", value: ""), ErasedField(field: "marketing_consent", value: "N"),
        ])])
        guard case .applied = outcomes[0] else { Issue.record("not applied"); return }
        let request = transport.requests[0]
        #expect(request.method == "PATCH" && request.path == "/services/data/v60.0/sobjects/Contact/003X")
        #expect(String(data: request.body!, encoding: .utf8) == #"{"Lethe_Interests__c":null,"Lethe_Marketing_Consent__c":false}"#)
    }

    @Test func salesforceDeletedRecordReadsAsAbsent() async throws {
        let transport = ScriptedTransport { request in
            Fixture.json([["errorCode": "ENTITY_IS_DELETED", "message": "entity is deleted"]], status: 404)
        }
        var manifest = try Fixture.shipped("salesforce")
        manifest.readBatch = nil
        let records = try await Fixture.connector(manifest, transport).read(ids: ["003A", "003B"])
        #expect(records.isEmpty)
        #expect(transport.requests.count == 2)
    }

    // MARK: Pipedrive

    static let keys = Fixture.pipedriveKeys

    static func pipedrivePerson(_ id: Int, updated: String = "2024-01-01 00:00:00", active: Bool = true) -> [String: Any] {
        ["id": id, "name": "김민준", "active_flag": active, "add_time": "2019-03-04 09:15:00", "update_time": updated,
         "email": [["label": "work", "value": "w\(id)@example.com", "primary": false], ["label": "home", "value": "h\(id)@example.com", "primary": true]],
         keys["PIPEDRIVE_FIELD_PURPOSE"]!: "31,33", keys["PIPEDRIVE_FIELD_MARKETING_CONSENT"]!: "41",
         keys["PIPEDRIVE_FIELD_INTERESTS"]!: "hiking", keys["PIPEDRIVE_FIELD_CONSENT_EXTENDED_AT"]!: NSNull()]
    }

    nonisolated(unsafe) static let personFields: [String: Any] = [
        "success": true,
        "data": [
            ["key": "name", "name": "Name", "field_type": "varchar"],
            ["key": keys["PIPEDRIVE_FIELD_PURPOSE"]!, "name": "Lethe purpose", "field_type": "set",
             "options": [["id": 31, "label": "payment"], ["id": 32, "label": "dispute"], ["id": 33, "label": "marketing"]]],
            ["key": keys["PIPEDRIVE_FIELD_MARKETING_CONSENT"]!, "name": "Lethe consent", "field_type": "enum",
             "options": [["id": 41, "label": "Yes"], ["id": 42, "label": "No"]]],
        ],
        "additional_data": ["pagination": ["start": 0, "limit": 500, "more_items_in_collection": false]],
    ]

    static func pipedrive(_ records: [[String: Any]]) -> ScriptedTransport {
        nonisolated(unsafe) let people = records
        return ScriptedTransport { request in
            if request.path == "/v1/personFields" { return Fixture.json(Self.personFields) }
            let start = Int(Fixture.query(request, "start") ?? "0")!
            let limit = Int(Fixture.query(request, "limit") ?? "100")!
            let page = Array(people.dropFirst(start).prefix(limit))
            let more = start + limit < people.count
            var pagination: [String: Any] = ["start": start, "limit": limit, "more_items_in_collection": more]
            if more { pagination["next_start"] = start + limit }
            return Fixture.json(["success": true, "data": page.isEmpty ? NSNull() : page as Any, "additional_data": ["pagination": pagination]])
        }
    }

    @Test func pipedrivePagesByOffsetAndMapsOptionIdsToLabels() async throws {
        let people = (1...1200).map { Self.pipedrivePerson($0, active: $0 != 5) }
        let transport = Self.pipedrive(people)
        let connector = Fixture.connector(try Fixture.shipped("pipedrive-v1", environment: Fixture.environment), transport)
        let records = try await Fixture.collect(connector).flatMap(\.records)
        #expect(records.count == 1199, "a person with active_flag false is gone")
        #expect(transport.requests.filter { $0.path == "/v1/persons" }.count == 3)
        #expect(transport.requests.allSatisfy { !$0.path.contains("api_token") && !$0.query.contains { $0.name == "api_token" } })
        let first = records[0]
        #expect(first.fields["purpose"] == "payment;marketing")
        #expect(first.fields["marketing_consent"] == "Yes")
        #expect(first.fields["email"] == "h1@example.com")
        #expect(first.fields["created_at"] == "2019-03-04T09:15:00Z")
    }

    @Test func pipedriveIncrementalStopsAtTheWatermark() async throws {
        let people = (1...600).map { id in
            Self.pipedrivePerson(id, updated: id <= 30 ? String(format: "2025-02-01 00:00:%02d", 59 - id) : "2024-01-01 00:00:00")
        }
        let transport = Self.pipedrive(people)
        let connector = Fixture.connector(try Fixture.shipped("pipedrive-v1", environment: Fixture.environment), transport)
        let batches = try await Fixture.collect(connector, PullRequest(watermark: "2025-01-01T00:00:00Z", full: false))
        #expect(batches.flatMap(\.records).count == 30)
        #expect(transport.requests.filter { $0.path == "/v1/persons" }.count == 1, "stops without reading the next page")
        #expect(Fixture.query(transport.requests.last!, "sort") == "update_time DESC")
    }

    @Test func pipedriveErasureWritesTheNoOptionId() async throws {
        let base = Self.pipedrive([])
        let transport = ScriptedTransport { request in
            request.method == "PUT" ? Fixture.json(["success": true, "data": ["id": 7]]) : base.answer(request)
        }
        let connector = Fixture.connector(try Fixture.shipped("pipedrive-v1", environment: Fixture.environment), transport)
        _ = try await connector.apply([WriteOperation(id: "op", kind: .eraseFields, recordID: "7", fields: [
            ErasedField(field: "interests", value: ""), ErasedField(field: "marketing_consent", value: "N"),
        ])])
        let put = try #require(transport.requests.first { $0.method == "PUT" })
        #expect(put.path == "/v1/persons/7")
        let body = Fixture.body(put)
        #expect(body[Self.keys["PIPEDRIVE_FIELD_MARKETING_CONSENT"]!] as? String == "42")
        #expect(body[Self.keys["PIPEDRIVE_FIELD_INTERESTS"]!] is NSNull)
        #expect(body.count == 2)
    }

    @Test func pipedriveBulkDeleteFallsBackToSingleDeletesWhenRefused() async throws {
        let transport = ScriptedTransport { request in
            if request.path == "/v1/persons" { return Fixture.json(["success": false, "error": "bad ids", "errorCode": 400], status: 400) }
            if request.path == "/v1/persons/3" { return Fixture.json(["success": false, "error": "not found", "errorCode": 404], status: 404) }
            return Fixture.json(["success": true, "data": ["id": 1]])
        }
        let connector = Fixture.connector(try Fixture.shipped("pipedrive-v1", environment: Fixture.environment), transport)
        let outcomes = try await connector.apply((1...3).map { WriteOperation(id: "op\($0)", kind: .delete, recordID: String($0)) })
        guard case .deleted = outcomes[0], case .deleted = outcomes[1], case .alreadyGone = outcomes[2] else {
            Issue.record("unexpected outcomes")
            return
        }
        #expect(transport.requests.count == 4)
    }
}

/// The extend write (the consent loop's write-back) for each shipped manifest.
struct ExtendWriteTests {
    static let extend = WriteOperation(id: "op-extend", kind: .extend, recordID: "42", fields: [
        ErasedField(field: "consent_extended_at", value: "2026-12-01T08:30:00+09:00"), ErasedField(field: "marketing_consent", value: "Y"),
    ])

    @Test func hubspotWritesTheConsentDateAndTrue() async throws {
        let transport = ScriptedTransport { _ in Fixture.json(["id": "42"]) }
        let outcomes = try await Fixture.connector(try Fixture.shipped("hubspot"), transport).apply([Self.extend])
        guard case .applied = outcomes[0] else { Issue.record("not applied"); return }
        #expect(transport.requests.count == 1)
        #expect(Fixture.body(transport.requests[0])["properties"] as? [String: String]
            == ["lethe_consent_extended_at": "2026-11-30T23:30:00Z", "lethe_marketing_consent": "true"])
    }

    @Test func salesforceWritesADateTimeAndACheckedBox() async throws {
        let transport = ScriptedTransport { _ in HTTPResult(status: 204) }
        _ = try await Fixture.connector(try Fixture.shipped("salesforce"), transport).apply([Self.extend])
        #expect(String(data: transport.requests[0].body!, encoding: .utf8)
            == #"{"Lethe_Consent_Extended_At__c":"2026-11-30T23:30:00Z","Lethe_Marketing_Consent__c":true}"#)
    }

    @Test func pipedriveWritesAKoreanDateAndTheYesOptionId() async throws {
        let base = ShippedManifestTests.pipedrive([])
        let transport = ScriptedTransport { request in
            request.method == "PUT" ? Fixture.json(["success": true, "data": ["id": 42]]) : base.answer(request)
        }
        _ = try await Fixture.connector(try Fixture.shipped("pipedrive-v1"), transport).apply([Self.extend])
        let put = try #require(transport.requests.first { $0.method == "PUT" })
        let body = Fixture.body(put)
        #expect(body[Fixture.pipedriveKeys["PIPEDRIVE_FIELD_CONSENT_EXTENDED_AT"]!] as? String == "2026-12-01")
        #expect(body[Fixture.pipedriveKeys["PIPEDRIVE_FIELD_MARKETING_CONSENT"]!] as? String == "41")
    }

    @Test func anUnmappedFieldFailsThatOperationOnly() async throws {
        let transport = ScriptedTransport { _ in Fixture.json(["id": "1"]) }
        let connector = Fixture.connector(try Fixture.shipped("hubspot"), transport)
        let outcomes = try await connector.apply([
            WriteOperation(id: "a", kind: .eraseFields, recordID: "1", fields: [ErasedField(field: "shoe_size", value: "")]),
            WriteOperation(id: "b", kind: .eraseFields, recordID: "2", fields: [ErasedField(field: "interests", value: "")]),
        ])
        guard case .failed(let failure) = outcomes[0], case .applied = outcomes[1] else { Issue.record("unexpected outcomes"); return }
        #expect(failure.code == "rest.unmapped_field" && !failure.isTransient)
        #expect(transport.requests.count == 1)
    }

    @Test func hubspotGDPRDeleteIsPermanent() async throws {
        var yaml = try String(contentsOf: Fixture.repository.appendingPathComponent("config/connectors/hubspot.yaml"), encoding: .utf8)
        let start = yaml.range(of: "delete:\n  mode: soft")!.lowerBound
        let end = yaml.range(of: "# Erasure and extension")!.lowerBound
        yaml.replaceSubrange(start..<end, with: """
            delete:
              mode: permanent
              one: {method: POST, path: /crm/v3/objects/contacts/gdpr-delete, body: '{"objectId": "{{id}}"}'}

            """)
        let manifest = try Fixture.manifest(yaml, environment: Fixture.environment)
        let transport = ScriptedTransport { _ in HTTPResult(status: 204) }
        let outcomes = try await Fixture.connector(manifest, transport).apply([WriteOperation(id: "d", kind: .delete, recordID: "77")])
        guard case .deleted(let receipt) = outcomes[0] else { Issue.record("not deleted"); return }
        #expect(receipt == DeletionReceipt(mode: .permanent))
        #expect(transport.requests[0].path == "/crm/v3/objects/contacts/gdpr-delete")
        #expect(Fixture.body(transport.requests[0])["objectId"] as? String == "77")
    }
}
