import Crypto
public import Foundation
import RetentionCore

/// Maps a verified delivery body to record events, per the connector's `format`.
///
/// Contract: pure, no deduplication (duplicates of an event id are all returned, in body order), events about
/// other object types than the configured one are skipped, and an unreadable body throws a
/// `WebhookIntakeError` whose message holds no body content. Every event has a non-empty event id and
/// record id: an empty id in a body counts as absent.
public struct WebhookEvents: Sendable {
    enum Format: Sendable {
        case hubspot(objectType: String)
        case pipedrive(object: String)
        case generic(GenericMapping)
    }

    struct GenericMapping: Sendable {
        var events: JSONPath?
        var id: JSONPath
        var eventID: JSONPath?
        var type: JSONPath?
        var deleted: Set<String>
        var occurredAt: JSONPath?
        var occurredAtInMilliseconds: Bool
    }

    let format: Format

    init(format: Format) { self.format = format }

    /// HubSpot webhooks (legacy `contact.*` and generic `object.*` subscription types) about `objectType`.
    public static func hubspot(objectType: String = "contact") -> Self { Self(format: .hubspot(objectType: objectType)) }

    /// Pipedrive webhooks v1 and v2 about `object`.
    public static func pipedrive(object: String = "person") -> Self { Self(format: .pipedrive(object: object)) }

    /// The format as written in configuration.
    public var formatName: String {
        switch format {
        case .hubspot: "hubspot"
        case .pipedrive: "pipedrive"
        case .generic: "generic"
        }
    }

    /// The record events of a delivery body, in body order.
    public func events(from body: Data) throws(WebhookIntakeError) -> [RecordEvent] {
        let json: JSONValue
        do {
            json = try JSONValue.parse(body)
        } catch {
            throw .malformedJSON
        }
        switch format {
        case .hubspot(let objectType): return try HubSpotEvents.events(in: json, objectType: objectType)
        case .pipedrive(let object): return try PipedriveEvents.events(in: json, object: object)
        case .generic(let mapping): return try GenericEvents.events(in: json, mapping: mapping)
        }
    }

    /// A stable id for an event that carries none: `sha256:` + hex SHA-256 of its canonical JSON.
    static func digestID(of value: JSONValue) -> String {
        "sha256:" + Hex.encode(SHA256.hash(data: Data(value.canonical.utf8)))
    }

    static func date(fromEpoch value: JSONValue?, milliseconds: Bool) -> Date? {
        guard let number = value?.int64 else { return nil }
        return Date(timeIntervalSince1970: milliseconds ? Double(number) / 1000 : Double(number))
    }
}

/// HubSpot's webhook payload: a JSON array of up to 100 events, each with `eventId`, `subscriptionType`,
/// `objectId`, `occurredAt` (epoch milliseconds), and for merges `primaryObjectId`, `mergedObjectIds`,
/// `newObjectId`. Generic subscriptions (`object.creation`, …) name the type in `objectTypeId` (`0-1`: contact).
enum HubSpotEvents {
    static let objectTypeIDs = ["contact": "0-1", "company": "0-2", "deal": "0-3", "ticket": "0-5"]

    static func events(in json: JSONValue, objectType: String) throws(WebhookIntakeError) -> [RecordEvent] {
        guard case .array(let items) = json else {
            throw .unexpectedShape("expected a JSON array of HubSpot events")
        }
        var events: [RecordEvent] = []
        for (position, item) in items.enumerated() {
            guard case .object = item, let subscription = item["subscriptionType"]?.scalarText else {
                throw .unexpectedShape("event \(position) is not a HubSpot event (no subscriptionType)")
            }
            let parts = subscription.split(separator: ".", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { continue }
            let concernsType =
                parts[0] == objectType
                || (parts[0] == "object" && item["objectTypeId"]?.scalarText == objectTypeIDs[objectType, default: objectType])
            guard concernsType else { continue }
            let kind: RecordEvent.Kind
            switch parts[1] {
            case "creation", "propertyChange", "merge", "restore": kind = .changed
            case "deletion", "privacyDeletion": kind = .deleted
            default: continue  // associationChange and future types: nothing to re-read
            }
            guard let eventID = item["eventId"]?.idText else {
                throw .unexpectedShape("event \(position) has no eventId")
            }
            guard let objectID = item["objectId"]?.idText else {
                throw .unexpectedShape("event \(position) has no objectId")
            }
            let occurredAt = WebhookEvents.date(fromEpoch: item["occurredAt"], milliseconds: true)
            events.append(RecordEvent(eventID: eventID, recordID: objectID, kind: kind, occurredAt: occurredAt))
            guard parts[1] == "merge" else { continue }
            // Every record a merge touched is re-read: the survivor changed, the merged ones are gone.
            var seen: Set<String> = [objectID]
            var others: [JSONValue] = [item["primaryObjectId"], item["newObjectId"]].compactMap { $0 }
            if case .array(let merged) = item["mergedObjectIds"] { others += merged }
            for other in others {
                guard let id = other.idText, seen.insert(id).inserted else { continue }
                events.append(RecordEvent(eventID: "\(eventID):\(id)", recordID: id, kind: .changed, occurredAt: occurredAt))
            }
        }
        return events
    }
}

/// Pipedrive's webhook payloads, one event per delivery.
///
/// - v1: `event` (`updated.person`), `meta.action` (`added`, `updated`, `merged`, `deleted`), `meta.object`,
///   `meta.id` (the object's id), `meta.timestamp` (epoch seconds), `meta.timestamp_micro`, `current`,
///   `previous`, `retry`. v1 carries no event id: the id is `pipedrive-v1:<object>:<id>:<action>:<timestamp>`
///   (the same across retries).
/// - v2: `meta.version` `2.0`, `meta.action` (`create`, `change`, `delete`), `meta.entity`, `meta.entity_id`,
///   `meta.id` (the event id), `meta.timestamp` (ISO 8601), `data`, `previous`. A merge arrives as a `delete`
///   of the merged record (with `meta.merged_to_id`) and a `change` of the survivor.
enum PipedriveEvents {
    static func events(in json: JSONValue, object wanted: String) throws(WebhookIntakeError) -> [RecordEvent] {
        guard case .object = json, let meta = json["meta"], case .object = meta else {
            throw .unexpectedShape("expected a Pipedrive webhook object with a meta block")
        }
        let isV2 = meta["version"]?.scalarText?.hasPrefix("2") == true || meta["entity"] != nil
        let eventParts = json["event"]?.scalarText?.split(separator: ".", maxSplits: 1).map(String.init) ?? []
        let action = meta["action"]?.scalarText ?? eventParts.first
        let object = (isV2 ? meta["entity"]?.scalarText : meta["object"]?.scalarText) ?? eventParts.dropFirst().first
        guard let action, let object else {
            throw .unexpectedShape("the Pipedrive webhook names no action or object")
        }
        guard object == wanted else { return [] }
        let kind: RecordEvent.Kind
        switch action {
        case "added", "create", "updated", "change", "merged": kind = .changed
        case "deleted", "delete": kind = .deleted
        default: return []
        }
        if isV2 {
            guard let recordID = meta["entity_id"]?.idText ?? json["data"]?["id"]?.idText ?? json["previous"]?["id"]?.idText
            else { throw .unexpectedShape("the Pipedrive webhook has no meta.entity_id") }
            let eventID = meta["id"]?.idText ?? WebhookEvents.digestID(of: json)
            let occurredAt = meta["timestamp"]?.scalarText.flatMap { DateParser(zone: .gmt).parse($0) }
            return [RecordEvent(eventID: eventID, recordID: recordID, kind: kind, occurredAt: occurredAt)]
        }
        guard let recordID = meta["id"]?.idText ?? json["current"]?["id"]?.idText ?? json["previous"]?["id"]?.idText else {
            throw .unexpectedShape("the Pipedrive webhook has no meta.id")
        }
        let stamp = meta["timestamp_micro"]?.scalarText ?? meta["timestamp"]?.scalarText
        let eventID = stamp.map { "pipedrive-v1:\(object):\(recordID):\(action):\($0)" } ?? WebhookEvents.digestID(of: json)
        let occurredAt = WebhookEvents.date(fromEpoch: meta["timestamp"], milliseconds: false)
        return [RecordEvent(eventID: eventID, recordID: recordID, kind: kind, occurredAt: occurredAt)]
    }
}

enum GenericEvents {
    static func events(in json: JSONValue, mapping: WebhookEvents.GenericMapping) throws(WebhookIntakeError)
        -> [RecordEvent]
    {
        let container: JSONValue
        if let path = mapping.events {
            guard let found = path.evaluate(json) else { throw .unexpectedShape("no events at '\(path)'") }
            container = found
        } else {
            container = json
        }
        let items: [JSONValue]
        switch container {
        case .array(let array): items = array
        case .object: items = [container]
        default: throw .unexpectedShape("expected an event object or an array of events")
        }
        return try items.enumerated().map { (position, item) throws(WebhookIntakeError) in
            guard case .object = item else { throw .unexpectedShape("event \(position) is not an object") }
            guard let recordID = mapping.id.evaluate(item)?.idText else {
                throw .unexpectedShape("event \(position) has no record id at '\(mapping.id)'")
            }
            var eventID = WebhookEvents.digestID(of: item)
            if let path = mapping.eventID {
                guard let id = path.evaluate(item)?.idText else {
                    throw .unexpectedShape("event \(position) has no event id at '\(path)'")
                }
                eventID = id
            }
            var kind = RecordEvent.Kind.changed
            if let path = mapping.type {
                guard let type = path.evaluate(item)?.scalarText else {
                    throw .unexpectedShape("event \(position) has no type at '\(path)'")
                }
                if mapping.deleted.contains(type) { kind = .deleted }
            }
            var occurredAt: Date?
            if let path = mapping.occurredAt, let value = path.evaluate(item) {
                if case .string(let text) = value, Int64(text) == nil {
                    occurredAt = DateParser(zone: .gmt).parse(text)
                } else {
                    occurredAt = WebhookEvents.date(fromEpoch: value, milliseconds: mapping.occurredAtInMilliseconds)
                }
            }
            return RecordEvent(eventID: eventID, recordID: recordID, kind: kind, occurredAt: occurredAt)
        }
    }
}

extension JSONValue {
    /// The text of an id: a string or number, not empty. An empty id names nothing (no record to read, no
    /// event to tell apart from the others), so it counts as absent.
    var idText: String? {
        guard let text = scalarText, !text.isEmpty else { return nil }
        return text
    }
}
