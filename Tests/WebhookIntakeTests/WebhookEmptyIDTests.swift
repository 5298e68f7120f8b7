import Foundation
import RetentionCore
import RetentionTesting
import Testing
import WebhookIntake

/// An empty id names no record and tells no event apart: every format treats it as absent.
struct WebhookEmptyIDTests {
    static func unexpectedShape(_ events: WebhookEvents, _ body: String) -> Bool {
        let error = #expect(throws: WebhookIntakeError.self) { try events.events(from: Data(body.utf8)) }
        return error?.code == "webhook.unexpected_shape"
    }

    /// A generic event whose record id is an empty string was accepted (an input that breaks FuzzWebhook's
    /// expectation that every event names a record).
    @Test func genericEventWithAnEmptyRecordIDIsRefused() throws {
        let events = try GenericEventsTests.mapping(["format": "generic", "id": "id"])
        #expect(Self.unexpectedShape(events, #"{"id":""}"#))
        #expect(Self.unexpectedShape(events, #"[{"id":"7"},{"id":""}]"#))
    }

    @Test func genericEventWithAnEmptyEventIDIsRefused() throws {
        let events = try GenericEventsTests.mapping(["format": "generic", "id": "id", "eventID": "uuid"])
        #expect(Self.unexpectedShape(events, #"{"id":"7","uuid":""}"#))
    }

    @Test(arguments: [
        #"[{"eventId":"","subscriptionType":"contact.creation","objectId":1}]"#,
        #"[{"eventId":1,"subscriptionType":"contact.deletion","objectId":""}]"#,
    ])
    func hubspotEventWithAnEmptyIDIsRefused(body: String) {
        #expect(Self.unexpectedShape(.hubspot(), body))
    }

    @Test func hubspotMergeSkipsEmptyMergedIDs() throws {
        let body = #"[{"eventId":5,"subscriptionType":"contact.merge","objectId":100,"mergedObjectIds":["",101],"newObjectId":""}]"#
        let events = try WebhookEvents.hubspot().events(from: Data(body.utf8))
        #expect(events.map(\.recordID) == ["100", "101"])
    }

    @Test func pipedriveFallsBackPastEmptyIDs() throws {
        let v2 = #"{"meta":{"version":"2.0","action":"delete","entity":"person","entity_id":"","id":""},"previous":{"id":9}}"#
        let events = try WebhookEvents.pipedrive().events(from: Data(v2.utf8))
        #expect(events.map(\.recordID) == ["9"])
        #expect(events.first?.eventID.hasPrefix("sha256:") == true)
        let v1 = #"{"event":"deleted.person","meta":{"action":"deleted","object":"person","id":""},"current":{"id":""}}"#
        #expect(Self.unexpectedShape(.pipedrive(), v1))
    }
}
