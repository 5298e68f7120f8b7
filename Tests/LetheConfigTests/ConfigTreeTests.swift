import Foundation
import LetheConfig
import RetentionCore
import Testing

@Suite("YAML to ConfigNode")
struct ConfigTreeTests {
    @Test func everyNodeHasItsLocationAndKeyPath() throws {
        let yaml = """
            version: 1
            connectors:
              - name: a
                settings:
                  path: /tmp/a.csv
                  columns: {email: E-mail}
              - name: b
            """
        let fixture = try ConfigFixture(["tree.yaml": yaml])
        defer { fixture.remove() }
        let file = fixture.url("tree.yaml")
        let root = try ConfigLoader(environment: [:]).loadTree(file: file)
        let connectors = try #require(root["connectors"]).items()
        #expect(connectors.count == 2)
        let path = try #require(connectors[0]["settings"]?["path"])
        #expect(path.keyPath == "connectors[0].settings.path")
        #expect(path.location == SourceLocation(file: file.path, line: 5, column: 7))
        #expect(try path.string() == "/tmp/a.csv")
        let settings = try #require(connectors[0]["settings"])
        #expect(settings.location?.line == 4)
        #expect(try settings["columns"]?.stringMap() == ["email": "E-mail"])
        #expect(connectors[1].keyPath == "connectors[1]")
        #expect(connectors[1].location?.line == 7)
        #expect(connectors[1]["name"]?.keyPath == "connectors[1].name")
    }

    @Test func mappingOrderIsKept() throws {
        let root = try tree("m: {z: 1, a: 2, k: 3}\n")
        #expect(try root["m"]?.entries().map(\.key) == ["z", "a", "k"])
    }

    @Test func emptyFileIsNullRoot() throws {
        let root = try tree("# only a comment\n")
        #expect(root.isNull)
    }

    @Test func relativePathsAreShownAsGiven() throws {
        let fixture = try ConfigFixture([
            "lethe.yaml": ConfigFixture.minimalConfig,
            "policies/test.yaml": "policy:\n  name: test\n  rules: [{purpose: a, period: soon}]\n",
        ])
        defer { fixture.remove() }
        let base = URL(fileURLWithPath: fixture.directory.path + "/", isDirectory: true)
        let relative = URL(fileURLWithPath: "lethe.yaml", relativeTo: base)
        let error = try #require(fixture.loadError(file: relative))
        #expect(error.location?.file == "policies/test.yaml")
        #expect(error.message.hasPrefix("policies/test.yaml:3: policy.rules[0].period: "))

        try Data("a: [1\n".utf8).write(to: fixture.url())
        let syntax = try #require(fixture.loadError(file: relative))
        #expect(syntax.location?.file == "lethe.yaml")
    }

    @Test(arguments: [
        ("a: [1, 2\nb: 3\n", 2),
        ("a: 1\n  b: 2\n", 2),
        ("a: 1\nb: \"unterminated\n", 3),
        ("list:\n  - a\n - b\n", 3),
    ])
    func syntaxErrorsNameFileAndLine(_ yaml: String, _ line: Int) throws {
        let fixture = try ConfigFixture(["tree.yaml": yaml])
        defer { fixture.remove() }
        let error = #expect(throws: ConfigError.self) {
            try ConfigLoader(environment: [:]).loadTree(file: fixture.url("tree.yaml"))
        }
        #expect(error?.code == "config.syntax")
        #expect(error?.location?.file == fixture.url("tree.yaml").path)
        #expect(error?.location?.line == line)
        #expect(error?.message.contains("YAML syntax error") == true)
    }

    @Test func duplicateKeysAreErrors() throws {
        let fixture = try ConfigFixture(["tree.yaml": "a: 1\nb: 2\na: 3\n"])
        defer { fixture.remove() }
        let error = #expect(throws: ConfigError.self) {
            try ConfigLoader(environment: [:]).loadTree(file: fixture.url("tree.yaml"))
        }
        #expect(error?.code == "config.duplicate_key")
        #expect(error?.key == "a")
        #expect(error?.location?.file == fixture.url("tree.yaml").path)
    }

    @Test func missingFileIsAConfigError() {
        let missing = URL(fileURLWithPath: "/nonexistent/lethe-\(UUID().uuidString).yaml")
        let error = #expect(throws: ConfigError.self) { try ConfigLoader(environment: [:]).loadTree(file: missing) }
        #expect(error?.code == "config.not_found")
    }

    @Test func nonUTF8FileIsAConfigError() throws {
        let fixture = try ConfigFixture([:])
        defer { fixture.remove() }
        try FileManager.default.createDirectory(at: fixture.directory, withIntermediateDirectories: true)
        let file = fixture.url("bad.yaml")
        try Data([0x61, 0x3A, 0x20, 0xC3, 0x28, 0x0A]).write(to: file)
        let error = #expect(throws: ConfigError.self) { try ConfigLoader(environment: [:]).loadTree(file: file) }
        #expect(error?.code == "config.encoding")
    }
}
