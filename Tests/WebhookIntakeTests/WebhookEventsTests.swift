import RetentionTesting
import Foundation
import RetentionCore
import Testing
import WebhookIntake

struct HubSpotEventsTests {
    static let hubspot = WebhookEvents.hubspot()

    static func events(_ json: String) throws -> [RecordEvent] {
        try hubspot.events(from: Data(json.utf8))
    }

    @Test func documentedCreationEvent() throws {
        #expect(try Self.events(hubspotDocBody) == [
            RecordEvent(eventID: "1", recordID: "123", kind: .changed, occurredAt: date(ms: 1_564_113_600_000))
        ])
    }

    @Test func subscriptionTypesMapToKinds() throws {
        let body = """
            [
             {"eventId":10,"subscriptionType":"contact.creation","objectId":1,"occurredAt":1700000000000},
             {"eventId":11,"subscriptionType":"contact.propertyChange","objectId":2,"propertyName":"email","propertyValue":"x@example.com","occurredAt":1700000000001},
             {"eventId":12,"subscriptionType":"contact.deletion","objectId":3,"occurredAt":1700000000002},
             {"eventId":13,"subscriptionType":"contact.privacyDeletion","objectId":4,"occurredAt":1700000000003},
             {"eventId":14,"subscriptionType":"contact.restore","objectId":5,"occurredAt":1700000000004},
             {"eventId":15,"subscriptionType":"contact.associationChange","objectId":6},
             {"eventId":16,"subscriptionType":"company.deletion","objectId":7},
             {"eventId":17,"subscriptionType":"object.deletion","objectTypeId":"0-1","objectId":8},
             {"eventId":18,"subscriptionType":"object.deletion","objectTypeId":"0-2","objectId":9}
            ]
            """
        let events = try Self.events(body)
        #expect(events.map(\.recordID) == ["1", "2", "3", "4", "5", "8"])
        #expect(events.map(\.kind) == [.changed, .changed, .deleted, .deleted, .changed, .deleted])
        #expect(events.map(\.eventID) == ["10", "11", "12", "13", "14", "17"])
        #expect(events[2].occurredAt == date(ms: 1_700_000_000_002))
        #expect(events[5].occurredAt == nil)
    }

    @Test func mergeReReadsEveryRecordItTouched() throws {
        let body = """
            [{"eventId":20,"subscriptionType":"contact.merge","objectId":100,"primaryObjectId":100,
              "mergedObjectIds":[101,102],"newObjectId":100,"occurredAt":1700000000000}]
            """
        let events = try Self.events(body)
        #expect(events.map(\.recordID) == ["100", "101", "102"])
        #expect(events.map(\.eventID) == ["20", "20:101", "20:102"])
        #expect(events.allSatisfy { $0.kind == .changed })
    }

    @Test func duplicatesArePreservedAndLargeIdsExact() throws {
        let event = #"{"eventId":9007199254740993,"subscriptionType":"contact.deletion","objectId":9007199254740995}"#
        let events = try Self.events("[\(event),\(event)]")
        #expect(events.count == 2)
        #expect(events[0] == events[1])
        #expect(events[0].eventID == "9007199254740993")
        #expect(events[0].recordID == "9007199254740995")
    }

    @Test func otherObjectTypesCanBeConfigured() throws {
        let body = #"[{"eventId":1,"subscriptionType":"company.deletion","objectId":7},{"eventId":2,"subscriptionType":"object.creation","objectTypeId":"0-2","objectId":8}]"#
        let events = try WebhookEvents.hubspot(objectType: "company").events(from: Data(body.utf8))
        #expect(events.map(\.recordID) == ["7", "8"])
    }

    @Test func emptyArrayIsNoEvents() throws {
        #expect(try Self.events("[]").isEmpty)
    }

    @Test(arguments: [
        ("{\"eventId\":1", "webhook.malformed_json"),
        ("", "webhook.malformed_json"),
        (#"{"eventId":1,"subscriptionType":"contact.creation","objectId":1}"#, "webhook.unexpected_shape"),
        (#"[{"eventId":1,"objectId":1}]"#, "webhook.unexpected_shape"),
        (#"["secret@example.com"]"#, "webhook.unexpected_shape"),
        (#"[{"subscriptionType":"contact.creation","objectId":1}]"#, "webhook.unexpected_shape"),
        (#"[{"eventId":1,"subscriptionType":"contact.deletion"}]"#, "webhook.unexpected_shape"),
    ])
    func malformedBodies(body: String, code: String) {
        let error = #expect(throws: WebhookIntakeError.self) { try Self.events(body) }
        #expect(error?.code == code)
        #expect(error?.category == .config)
        #expect(error?.httpStatus == 400)
        #expect(error.map { !$0.message.contains("secret@example.com") } ?? false)
    }
}

struct PipedriveEventsTests {
    static let pipedrive = WebhookEvents.pipedrive()

    static func events(_ json: String) throws -> [RecordEvent] {
        try pipedrive.events(from: Data(json.utf8))
    }

    @Test func v1UpdatedPerson() throws {
        let body = """
            {"v":1,"matches_filters":{"current":[]},"meta":{"v":1,"action":"updated","object":"person","id":42,
             "company_id":7,"user_id":9,"host":"acme.pipedrive.com","timestamp":1700000000,
             "timestamp_micro":1700000000123456,"webhook_id":"5","attempt_no":1},
             "current":{"id":42,"name":"A Person"},"previous":{"id":42,"name":"Old"},"retry":0,"event":"updated.person"}
            """
        let events = try Self.events(body)
        #expect(events == [
            RecordEvent(
                eventID: "pipedrive-v1:person:42:updated:1700000000123456", recordID: "42", kind: .changed,
                occurredAt: Date(timeIntervalSince1970: 1_700_000_000))
        ])
        // A retry carries the same meta, so the same event id.
        let retried = body.replacingOccurrences(of: "\"retry\":0", with: "\"retry\":1")
            .replacingOccurrences(of: "\"attempt_no\":1", with: "\"attempt_no\":2")
        #expect(try Self.events(retried) == events)
    }

    @Test func v1DeletedAndMergedPerson() throws {
        let deleted = """
            {"v":1,"meta":{"v":1,"action":"deleted","object":"person","id":43,"timestamp":1700000001},
             "current":null,"previous":{"id":43},"event":"deleted.person","retry":0}
            """
        #expect(try Self.events(deleted).map(\.kind) == [.deleted])
        #expect(try Self.events(deleted).first?.eventID == "pipedrive-v1:person:43:deleted:1700000001")
        let merged = #"{"meta":{"action":"merged","object":"person","id":44,"timestamp":1700000002},"current":{"id":44},"event":"merged.person"}"#
        #expect(try Self.events(merged).map(\.kind) == [.changed])
    }

    @Test func v1OtherObjectsAreSkipped() throws {
        let deal = #"{"meta":{"action":"deleted","object":"deal","id":5,"timestamp":1},"event":"deleted.deal"}"#
        #expect(try Self.events(deal).isEmpty)
    }

    @Test func v2ChangeAndDelete() throws {
        let change = """
            {"data":{"id":42,"name":"A Person"},"previous":{"name":"Old"},
             "meta":{"action":"change","entity":"person","entity_id":"42","id":"8b1f0c3e-1111-4a4a-9c9c-000000000001",
             "timestamp":"2024-05-01T10:00:00.000Z","version":"2.0","attempt":1,"type":"general"}}
            """
        #expect(try Self.events(change) == [
            RecordEvent(
                eventID: "8b1f0c3e-1111-4a4a-9c9c-000000000001", recordID: "42", kind: .changed,
                occurredAt: DateParser(zone: .gmt).parse("2024-05-01T10:00:00Z"))
        ])
        let delete = """
            {"data":null,"previous":{"id":43},"meta":{"action":"delete","entity":"person","entity_id":"43",
             "id":"8b1f0c3e-1111-4a4a-9c9c-000000000002","merged_to_id":"42","timestamp":"2024-05-01T10:00:01Z","version":"2.0"}}
            """
        let events = try Self.events(delete)
        #expect(events.map(\.kind) == [.deleted])
        #expect(events.map(\.recordID) == ["43"])
        let create = #"{"data":{"id":45},"meta":{"action":"create","entity":"person","entity_id":"45","id":"e3","version":"2.0"}}"#
        #expect(try Self.events(create).map(\.kind) == [.changed])
        let org = #"{"data":{"id":1},"meta":{"action":"delete","entity":"organization","entity_id":"1","id":"e4","version":"2.0"}}"#
        #expect(try Self.events(org).isEmpty)
    }

    @Test(arguments: [
        "[]",
        #"{"event":"updated.person"}"#,
        #"{"meta":{"object":"person","id":1}}"#,
        #"{"meta":{"action":"updated","object":"person"},"current":null}"#,
        #"{"meta":{"action":"change","entity":"person","version":"2.0","id":"e"}}"#,
    ])
    func wrongShapes(body: String) {
        let error = #expect(throws: WebhookIntakeError.self) { try Self.events(body) }
        #expect(error?.code == "webhook.unexpected_shape")
    }
}

struct GenericEventsTests {
    static func mapping(_ yaml: TestYAML) throws -> WebhookEvents {
        try WebhookEvents(config: yaml.node(keyPath: "webhook"))
    }

    @Test func pathsTypesAndDeletedValues() throws {
        let events = try Self.mapping([
            "format": "generic", "events": "data.items", "id": "record.id", "eventID": "uuid", "type": "kind",
            "deleted": ["record.deleted", "record.erased"], "occurredAt": "at", "occurredAtUnit": "milliseconds",
        ])
        let body = """
            {"data":{"items":[
              {"uuid":"e1","kind":"record.updated","record":{"id":7},"at":1700000000000},
              {"uuid":"e2","kind":"record.erased","record":{"id":"8"},"at":"2024-05-01T10:00:00Z"},
              {"uuid":"e2","kind":"record.erased","record":{"id":"8"}}
            ]}}
            """
        let result = try events.events(from: Data(body.utf8))
        #expect(result.map(\.eventID) == ["e1", "e2", "e2"])
        #expect(result.map(\.recordID) == ["7", "8", "8"])
        #expect(result.map(\.kind) == [.changed, .deleted, .deleted])
        #expect(result[0].occurredAt == date(ms: 1_700_000_000_000))
        #expect(result[1].occurredAt == DateParser(zone: .gmt).parse("2024-05-01T10:00:00Z"))
        #expect(result[2].occurredAt == nil)
    }

    @Test func singleObjectBodyAndDigestEventIDs() throws {
        let events = try Self.mapping(["format": "generic", "id": "id"])
        let one = try events.events(from: Data(#"{"id":"42","b":1,"a":[true,null]}"#.utf8))
        let reordered = try events.events(from: Data(#"{ "a": [true, null], "b": 1, "id": "42" }"#.utf8))
        #expect(one.count == 1)
        #expect(one[0].eventID.hasPrefix("sha256:"))
        #expect(one[0].eventID.count == "sha256:".count + 64)
        #expect(one == reordered)
        let array = try events.events(from: Data(#"[{"id":"1"},{"id":"2"},{"id":"1"}]"#.utf8))
        #expect(array.map(\.recordID) == ["1", "2", "1"])
        #expect(array[0].eventID == array[2].eventID)
        #expect(array[0].eventID != array[1].eventID)
        #expect(array.allSatisfy { $0.kind == .changed })
    }

    @Test func rootPathAndIndexes() throws {
        let events = try Self.mapping(["format": "generic", "events": "$", "id": "refs[1].id"])
        let result = try events.events(from: Data(#"[{"refs":[{"id":"a"},{"id":"b"}]}]"#.utf8))
        #expect(result.map(\.recordID) == ["b"])
    }

    @Test(arguments: [
        ("not json", "webhook.malformed_json"),
        (#"{"other":[]}"#, "webhook.unexpected_shape"),
        (#"{"data":{"items":"x"}}"#, "webhook.unexpected_shape"),
        (#"{"data":{"items":[{"kind":"a","uuid":"u"}]}}"#, "webhook.unexpected_shape"),
        (#"{"data":{"items":[{"record":{"id":1},"uuid":"u"}]}}"#, "webhook.unexpected_shape"),
        (#"{"data":{"items":[{"record":{"id":1},"kind":"a"}]}}"#, "webhook.unexpected_shape"),
        (#"{"data":{"items":["private@example.com"]}}"#, "webhook.unexpected_shape"),
    ])
    func malformed(body: String, code: String) throws {
        let events = try Self.mapping([
            "format": "generic", "events": "data.items", "id": "record.id", "eventID": "uuid", "type": "kind",
            "deleted": ["d"],
        ])
        let error = #expect(throws: WebhookIntakeError.self) { try events.events(from: Data(body.utf8)) }
        #expect(error?.code == code)
        #expect(error.map { !$0.message.contains("private@example.com") } ?? false)
    }
}
