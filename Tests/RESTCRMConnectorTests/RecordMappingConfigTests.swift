import RetentionTesting
import Foundation
@testable import RESTCRMConnector
import RetentionCore
import Testing

struct RecordMappingConfigTests {
    static func configError(_ yaml: TestYAML) -> ConfigError? {
        #expect(throws: ConfigError.self) { try RecordMapping(config: yaml.node(file: "hubspot.yaml")) }
    }

    @Test func unknownTopLevelKeyNamesItsLine() throws {
        let error = try #require(Self.configError(["records": "results", "id": "id", "paging": "paging.next.after"]))
        #expect(error.code == "config.unknown_key")
        #expect(error.location == SourceLocation(file: "hubspot.yaml", line: 4))
        #expect(error.key == "mapping.paging")
        #expect(error.message.hasPrefix("hubspot.yaml:4: mapping.paging: unknown key"))
    }

    @Test func unknownFieldOptionNamesItsLine() throws {
        let error = try #require(Self.configError([
            "id": "id",
            "fields": [
                "email": "properties.email",
                "created_at": ["path": "properties.createdate", "type": "datetime", "timezone": "UTC"],
            ],
        ]))
        #expect(error.code == "config.unknown_key")
        #expect(error.location?.line == 8)
        #expect(error.key == "mapping.fields.created_at.timezone")
    }

    struct BadConfig: Sendable {
        var yaml: TestYAML
        var code: String
        var key: String
        var line: Int
    }

    static let id: (String, TestYAML) = ("id", "id")
    static func field(_ options: TestYAML) -> TestYAML { .mapping([id, ("fields", .mapping([("x", options)]))]) }

    static let badConfigs: [BadConfig] = [
        BadConfig(yaml: ["records": "results"], code: "config.missing", key: "mapping", line: 1),
        BadConfig(yaml: ["id": "a..b"], code: "config.path", key: "mapping.id", line: 2),
        BadConfig(yaml: ["id": "id", "records": "results["], code: "config.path", key: "mapping.records", line: 3),
        BadConfig(yaml: ["id": "id", "fields": "email"], code: "config.type", key: "mapping.fields", line: 3),
        BadConfig(yaml: field(["type": "datetime"]), code: "config.missing", key: "mapping.fields.x", line: 4),
        BadConfig(yaml: field(["path": "x", "type": "date"]), code: "config.type", key: "mapping.fields.x.type", line: 6),
        BadConfig(yaml: field(["path": "x", "type": "datetime", "zone": "Mars/Base"]), code: "config.zone",
                  key: "mapping.fields.x.zone", line: 7),
        BadConfig(yaml: field(["path": "x", "zone": "UTC"]), code: "config.conflict", key: "mapping.fields.x.zone", line: 6),
        BadConfig(yaml: field(["path": "x", "split": ""]), code: "config.missing", key: "mapping.fields.x.split", line: 6),
        BadConfig(yaml: field(["path": "x", "values": "golf"]), code: "config.type", key: "mapping.fields.x.values", line: 6),
        BadConfig(yaml: field(["path": "x[]"]), code: "config.path", key: "mapping.fields.x.path", line: 5),
        BadConfig(yaml: field("x..y"), code: "config.path", key: "mapping.fields.x", line: 4),
    ]

    @Test(arguments: badConfigs)
    func invalidConfigIsRejectedAtItsLine(config: BadConfig) throws {
        let error = try #require(Self.configError(config.yaml))
        #expect(error.code == config.code)
        #expect(error.key == config.key)
        #expect(error.location?.line == config.line)
    }

    @Test func decodesShorthandAndOptions() throws {
        let mapping = try RecordMapping(config: ([
            "records": "data",
            "id": "id",
            "fields": [
                "email": "email[primary=true].value",
                "created_at": ["path": "add_time", "type": "datetime", "zone": "UTC"],
                "purpose": ["path": "p", "split": ";", "join": "|", "values": ["1": "contract"]],
            ],
        ] as TestYAML).node())
        #expect(mapping.recordsPath?.description == "data")
        #expect(mapping.idPath.description == "id")
        #expect(mapping.fields["email"] == FieldMapping(path: try #require(JSONPath("email[primary=true].value"))))
        #expect(mapping.fields["created_at"]?.kind == .datetime)
        #expect(mapping.fields["created_at"]?.zone?.secondsFromGMT() == 0)
        #expect(mapping.fields["email"]?.zone == nil)
        #expect(mapping.fields["purpose"] == FieldMapping(
            path: try #require(JSONPath("p")), split: ";", join: "|", values: ["1": "contract"]))
    }
}
