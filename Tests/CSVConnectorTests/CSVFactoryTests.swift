import CSVConnector
import Foundation
import RetentionCore
import Testing

@Suite struct CSVFactoryTests {
    /// A settings mapping as the config loader builds it: every key on its own line of `lethe.yaml`.
    static func settings(_ entries: [(String, ConfigNode.Value)]) -> ConfigNode {
        let nodes = entries.enumerated().map { index, entry in
            (
                key: entry.0,
                node: ConfigNode(
                    value: entry.1, location: SourceLocation(file: "lethe.yaml", line: 10 + index),
                    keyPath: "connectors[0].settings.\(entry.0)")
            )
        }
        return ConfigNode(
            value: .mapping(nodes), location: SourceLocation(file: "lethe.yaml", line: 9),
            keyPath: "connectors[0].settings")
    }

    static func context(_ folder: URL) -> ConnectorContext {
        ConnectorContext(
            name: "contacts", clock: FixedClock(Date(timeIntervalSince1970: 0)), log: { _, _, _ in },
            stateDirectory: folder, configDirectory: folder)
    }

    static func configError(_ entries: [(String, ConfigNode.Value)]) -> ConfigError? {
        do {
            _ = try ConnectorFactory.csv.make(settings(entries), context(URL(fileURLWithPath: "/tmp")))
            return nil
        } catch {
            return error as? ConfigError
        }
    }

    @Test func specDescribesTheConnector() {
        let spec = ConnectorFactory.csv.spec
        #expect(spec.type == "csv")
        #expect(spec.capabilities == [.source, .writeBack])
        #expect(spec.fields.map(\.name) == ["path", "encoding", "delimiter", "columns", "idColumn"])
        #expect(spec.fields.first { $0.name == "path" }?.required == true)
        #expect(spec.fields.first { $0.name == "encoding" }?.kind == .choice(["auto", "utf-8", "cp949"]))
        #expect(spec.fields.first { $0.name == "idColumn" }?.defaultValue == "id")
    }

    @Test func buildsAWorkingSourceAndWriter() async throws {
        let folder = try TemporaryFolder()
        let file = try folder.file("c.csv", "No;Mail\n1;a@example.com\n")
        let instance = try ConnectorFactory.csv.make(
            Self.settings([
                ("path", .scalar(file.path)), ("encoding", .scalar("utf-8")), ("delimiter", .scalar(";")),
                (
                    "columns",
                    .mapping([
                        (key: "customer", node: ConfigNode(value: .scalar("No"), location: nil, keyPath: "c.customer")),
                        (key: "email", node: ConfigNode(value: .scalar("Mail"), location: nil, keyPath: "c.email")),
                    ])
                ),
                ("idColumn", .scalar("customer")),
            ]), Self.context(folder.url))
        let source = try #require(instance.source)
        let records = try await pullAll(source)
        #expect(records.map(\.id) == ["1"])
        #expect(records.first?.fields == ["customer": "1", "email": "a@example.com"])
        let writer = try #require(instance.writer)
        #expect(names(try await writer.apply([delete("1")])) == ["applied"])
    }

    @Test func relativePathsResolveWithTheContext() throws {
        let folder = URL(fileURLWithPath: "/tmp")
        let instance = try ConnectorFactory.csv.make(
            Self.settings([("path", .scalar("data/c.csv"))]), Self.context(folder))
        let connector = try #require(instance.source as? CSVConnector)
        #expect(connector.configuration.path == Self.context(folder).resolvePath("data/c.csv"))
        #expect(connector.configuration.encoding == .auto)
        #expect(connector.configuration.delimiter == ",")
        #expect(connector.configuration.idColumn == "id")
    }

    @Test func tabDelimiterSpelledOut() throws {
        let instance = try ConnectorFactory.csv.make(
            Self.settings([("path", .scalar("/x.csv")), ("delimiter", .scalar("\\t"))]),
            Self.context(URL(fileURLWithPath: "/tmp")))
        #expect((instance.source as? CSVConnector)?.configuration.delimiter == "\t")
    }

    @Test func badSettingsNameTheirLine() throws {
        let missing = Self.configError([("encoding", .scalar("auto"))])
        #expect(missing?.code == "config.missing")
        #expect(missing?.key == "connectors[0].settings.path")

        let encoding = Self.configError([("path", .scalar("/x.csv")), ("encoding", .scalar("latin1"))])
        #expect(encoding?.code == "config.choice")
        #expect(encoding?.location?.line == 11)

        for bad in [";;", "\"", ""] {
            let delimiter = Self.configError([("path", .scalar("/x.csv")), ("delimiter", .scalar(bad))])
            #expect(delimiter?.code == "config.delimiter")
            #expect(delimiter?.location?.line == 11)
        }

        let empty = Self.configError([("path", .scalar("  "))])
        #expect(empty?.code == "config.empty")
        #expect(empty?.location?.line == 10)

        let unknown = Self.configError([("path", .scalar("/x.csv")), ("sheet", .scalar("1"))])
        #expect(unknown?.code == "config.unknown_key")

        let columns = Self.configError([("path", .scalar("/x.csv")), ("columns", .scalar("email"))])
        #expect(columns?.code == "config.type")
        #expect(columns?.location?.line == 11)

        let emptyColumn = Self.configError([
            ("path", .scalar("/x.csv")),
            (
                "columns",
                .mapping([
                    (
                        key: "email",
                        node: ConfigNode(
                            value: .scalar(""), location: SourceLocation(file: "lethe.yaml", line: 12),
                            keyPath: "connectors[0].settings.columns.email")
                    )
                ])
            ),
        ])
        #expect(emptyColumn?.code == "config.empty")
        #expect(emptyColumn?.location?.line == 12)
        #expect(emptyColumn?.key == "connectors[0].settings.columns.email")

        let idColumn = Self.configError([("path", .scalar("/x.csv")), ("idColumn", .scalar(" "))])
        #expect(idColumn?.code == "config.empty")
        #expect(idColumn?.location?.line == 11)
    }
}
