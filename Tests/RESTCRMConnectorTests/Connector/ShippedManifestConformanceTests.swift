import ConnectorConformance
import Foundation
@testable import RESTCRMConnector
import RetentionCore
import RetentionTesting
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A shipped manifest (config/connectors/NAME.yaml) through the real HTTP client against the fake of
/// its provider (Tests/FakeCRMs/fakecrm.py), seeded with the fixture world. Only the transport's
/// timings are shortened: a 400 ms timeout and one quick retry, so faults show in seconds.
struct ShippedManifestConformanceSubject: ConformanceSubject {
    static let token = "conformance-token-5f1e9c"
    let manifest: String

    var provider: String { manifest }
    var secrets: [String] { [Self.token] }

    var exclusions: [ConformanceCheck: String] {
        switch manifest {
        case "hubspot":
            let silent = "HubSpot's batch archive answers 204 for live, archived and unknown ids alike: a repeated delete is done, but reported applied, never alreadyGone"
            return [
                .batchAnswerLeavingIDsOutDeletesOnlyTheRest: "HubSpot's batch archive answers 204 with no body: there is no per-id answer to leave an id out of",
                .deleteIsIdempotent: silent, .deleteOfMissingIsAlreadyGone: silent, .outcomesFollowOperationOrder: silent,
            ]
        case "salesforce":
            let unknown = "Salesforce answers the delete of an id that never existed with INVALID_CROSS_REFERENCE_KEY, a failure: only ENTITY_IS_DELETED (a vanished record) counts as gone"
            return [.deleteOfMissingIsAlreadyGone: unknown, .outcomesFollowOperationOrder: unknown]
        case "pipedrive":
            return [
                .batchAnswerLeavingIDsOutDeletesOnlyTheRest: "Pipedrive API v2 has no bulk delete: one DELETE per person, no batch answer",
                .deleteIsIdempotent: Self.keptFor30Days, .deleteOfMissingIsAlreadyGone: Self.keptFor30Days,
                .eraseOfMissingIsAlreadyGone: Self.keptFor30Days,
            ]
        default:
            return [
                .deleteIsIdempotent: Self.listedAgain, .deleteOfMissingIsAlreadyGone: Self.listedAgain,
                .eraseOfMissingIsAlreadyGone: Self.keptFor30Days,
            ]
        }
    }

    static let listedAgain = """
        Pipedrive keeps a deleted person for 30 days; its reference does not say whether the bulk DELETE \
        /v1/persons?ids= lists such a person again in data.id, and the fake lists it (as its single DELETE \
        answers success): a repeated delete is reported deleted, not alreadyGone (one it leaves out is \
        re-read and is alreadyGone)
        """

    static let keptFor30Days = """
        Pipedrive keeps a deleted person for 30 days, answers a repeated DELETE with success and updates it: \
        reported applied, not alreadyGone
        """

    func make(seededWith records: [SourceRecord]) async throws -> ConnectorInstance {
        try await makeUnderTest(seededWith: records).instance
    }

    func makeUnderTest(seededWith records: [SourceRecord]) async throws -> SourceUnderTest {
        let fake = try FakeCRM(provider: provider, seed: records.map(neutral), token: Self.token)
        do {
            var ids = try await fake.providerIDs()
            ids[ConformanceFixtures.unknownID] = provider == "salesforce" ? "003Dn0000ZZZZZZ" : "999999"
            var manifest = try Fixture.shipped(self.manifest, environment: environment(fake.baseURL))
            manifest.http.timeout = .milliseconds(400)
            manifest.http.rateLimit.requests = nil
            manifest.http.rateLimit.retries = 1
            manifest.http.rateLimit.backoffInitial = .milliseconds(10)
            manifest.http.rateLimit.backoffMax = .milliseconds(20)
            manifest.http.rateLimit.retryAfterMax = .milliseconds(50)
            let client = try RESTHTTPClient(configuration: manifest.http, log: { _, _, _ in })
            let context = ConnectorContext(
                name: self.manifest, clock: FixedClock(Date(timeIntervalSince1970: 1_750_000_000)), log: { _, _, _ in },
                stateDirectory: FileManager.default.temporaryDirectory, configDirectory: Fixture.repository)
            let connector = RESTCRMConnector(manifest: manifest, client: client, context: context)
            let instance = ConnectorInstance(source: connector, writer: connector) {
                try? await client.shutdown()
                fake.stop()
            }
            let provider = self.provider
            return SourceUnderTest(instance: instance, backend: fake, ids: ids) { Self.presented($0, provider: provider) }
        } catch {
            fake.stop()
            throw error
        }
    }

    func environment(_ baseURL: String) -> [String: String] {
        [
            "HUBSPOT_BASE_URL": baseURL, "HUBSPOT_TOKEN": Self.token,
            "SALESFORCE_INSTANCE_URL": baseURL, "SALESFORCE_ACCESS_TOKEN": Self.token,
            "PIPEDRIVE_BASE_URL": baseURL, "PIPEDRIVE_API_TOKEN": Self.token,
        ].merging(FakeCRM.pipedriveKeys) { a, _ in a }
    }

    /// A fixture record in the fake's provider-neutral seed shape. The name is the one name field
    /// the manifest reads (HubSpot `firstname`, Salesforce `LastName`, Pipedrive `name`).
    func neutral(_ record: SourceRecord) -> [String: Any] {
        var seed: [String: Any] = [
            "id": record.id, "email": record.fields["email"] ?? "", "purpose": record.fields["purpose"] ?? "",
            "marketing_consent": record.fields["marketing_consent"] ?? NSNull(), "interests": record.fields["interests"] ?? "",
            "consent_extended_at": record.fields["consent_extended_at"] ?? NSNull(),
            "created": record.fields["created_at"] ?? NSNull(),
        ]
        seed[provider == "salesforce" ? "lastname" : "firstname"] = record.fields["name"] ?? ""
        return seed
    }

    /// A fixture record as the manifest reads it back from the fake: dates in UTC to the second (a
    /// zone-less one is UTC to the fake; a missing creation date is the one the CRM stamps), consent
    /// as the provider spells it, no phone (no shipped manifest maps one).
    static func presented(_ record: SourceRecord, provider: String) -> SourceRecord {
        var fields = record.fields
        fields["phone"] = nil
        fields["created_at"] = utc(fields["created_at"]) ?? "2020-01-01T00:00:00Z"
        let consent = fields["marketing_consent"] ?? ""
        switch provider {
        case "hubspot": fields["marketing_consent"] = ["Y": "true", "N": "false"][consent] ?? consent
        case "salesforce": fields["marketing_consent"] = consent == "Y" ? "true" : "false"
        default: fields["marketing_consent"] = ["Y": "Yes", "N": "No"][consent] ?? consent
        }
        if provider.hasPrefix("pipedrive") {
            // A Pipedrive date field keeps the calendar day, read as a day in Asia/Seoul.
            fields["consent_extended_at"] = utc(fields["consent_extended_at"].map { "\($0.prefix(10))T00:00:00+09:00" })
        } else {
            fields["consent_extended_at"] = utc(fields["consent_extended_at"])
        }
        return SourceRecord(id: record.id, fields: fields)
    }

    /// Fixture date text, zone-less as UTC, as `yyyy-MM-ddTHH:mm:ssZ`.
    static func utc(_ text: String?) -> String? {
        guard let text, !text.isEmpty, let date = DateParser(zone: .gmt).parse(text) else { return nil }
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = .gmt
        return formatter.string(from: date)
    }
}

/// One fake CRM process and its control API, as the system behind a conformance run.
final class FakeCRM: ConformanceBackend, @unchecked Sendable {
    static let pipedriveKeys = [
        "PIPEDRIVE_FIELD_PURPOSE": "cc35be25ec2b9702c1f883bcb1e5ee7255aa8a58",
        "PIPEDRIVE_FIELD_MARKETING_CONSENT": "52628b6bab956f26190a1ecae501b7f385363913",
        "PIPEDRIVE_FIELD_INTERESTS": "48263d97b2f52983e656de70bc08b46fd8f7b792",
        "PIPEDRIVE_FIELD_CONSENT_EXTENDED_AT": "a6c2db92912f8dce6b72e679c5db94311e54d081",
    ]

    let fake: FakeCRMServer
    var baseURL: String { fake.baseURL }

    init(provider: String, seed records: [[String: Any]], token: String) throws {
        fake = try FakeCRMServer(provider: provider, seed: records, repository: Fixture.repository, arguments: ["--token", token])
    }

    func stop() { fake.stop() }

    /// Fixture id (the seed's neutral id) → the id the fake gave the record.
    func providerIDs() async throws -> [String: String] {
        let records = try await call("GET", "/_fake/records") as? [[String: Any]] ?? []
        return Dictionary(records.compactMap { record in
            guard let id = record["id"] as? String, let provider = record["provider_id"] else { return nil }
            return (id, "\(provider)")
        }) { first, _ in first }
    }

    func change(_ id: String, fields: [String: String]) async throws {
        var neutral: [String: Any] = [:]
        for (field, value) in fields { neutral[field == "created_at" ? "created" : field] = value }
        try await call("PUT", "/_fake/records/\(id)", neutral)
    }

    func inject(_ fault: ConformanceFault) async throws {
        switch fault {
        case .status(let status): try await call("POST", "/_fake/faults", ["fail_all": status])
        case .timeout: try await call("POST", "/_fake/faults", ["latency_ms": 1500])
        case .omitFromBatchAnswers(let ids): try await call("POST", "/_fake/faults", ["omit_ids": ids])
        }
    }

    func clearFaults() async throws {
        try await call("POST", "/_fake/faults", ["fail_all": 0, "latency_ms": 0, "omit_ids": [String]()])
    }

    @discardableResult
    func call(_ method: String, _ path: String, _ body: [String: Any]? = nil) async throws -> Any? {
        try await fake.call(method, path, body)
    }
}

/// Every conformance check for every shipped manifest, against the fake of its provider.
@Suite struct ShippedManifestConformanceTests {
    static let manifests = ["hubspot", "salesforce", "pipedrive", "pipedrive-v1"]

    @Test(arguments: manifests, ConformanceCheck.allCases)
    func conformance(manifest: String, check: ConformanceCheck) async throws {
        let subject = ShippedManifestConformanceSubject(manifest: manifest)
        let outcome = try await runConformance(check, subject: subject)
        if case .notApplicable(let reason) = outcome {
            Issue.record(Comment(rawValue: "\(manifest): \(check) does not apply: \(reason)"), severity: .warning)
        }
    }
}
