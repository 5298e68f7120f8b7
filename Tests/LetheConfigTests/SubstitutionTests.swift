import Foundation
import LetheConfig
import RetentionCore
import Testing

@Suite("${VAR} substitution")
struct SubstitutionTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var value: String
        var environment: [String: String]
        var expected: String
        var testDescription: String { "\(value) with \(environment.keys.sorted())" }
    }

    static let cases: [Case] = [
        Case(value: "${A}", environment: ["A": "x"], expected: "scalar:x"),
        Case(value: "${A}", environment: ["A": ""], expected: "scalar:"),
        Case(value: "${A:-d}", environment: [:], expected: "scalar:d"),
        Case(value: "${A:-d}", environment: ["A": ""], expected: "scalar:d"),
        Case(value: "${A:-d}", environment: ["A": "set"], expected: "scalar:set"),
        Case(value: "${A:-}", environment: [:], expected: "scalar:"),
        Case(value: "pre-${A}-mid-${B:-b}-post", environment: ["A": "a"], expected: "scalar:pre-a-mid-b-post"),
        Case(value: "${A:-${B:-.lethe}/contacts.csv}", environment: [:], expected: "scalar:.lethe/contacts.csv"),
        Case(
            value: "${A:-${B:-.lethe}/contacts.csv}", environment: ["B": "/srv"], expected: "scalar:/srv/contacts.csv"),
        Case(
            value: "${A:-${B:-.lethe}/contacts.csv}", environment: ["A": "/x.csv", "B": "/srv"],
            expected: "scalar:/x.csv"),
        Case(value: "$${A}", environment: ["A": "x"], expected: "scalar:${A}"),
        Case(value: "cost $$5 and $5", environment: [:], expected: "scalar:cost $5 and $5"),
        Case(value: "${A:-a$$b}", environment: [:], expected: "scalar:a$b"),
        Case(value: "${A}", environment: [:], expected: "unresolved:A"),
        Case(value: "x-${A:-${MISSING}}", environment: [:], expected: "unresolved:MISSING"),
        Case(value: "${A:-${MISSING}}", environment: ["A": "ok"], expected: "scalar:ok"),
    ]

    @Test(arguments: cases)
    func expands(_ testCase: Case) throws {
        let root = try tree(
            "value: \"\(testCase.value)\"\nplain: \(testCase.value)\n", environment: testCase.environment)
        #expect(root["value"]?.debugText == testCase.expected)
        #expect(root["plain"]?.debugText == testCase.expected)
    }

    @Test func unsetVariableIsAnErrorOnlyWhenRead() throws {
        let fixture = try ConfigFixture(["tree.yaml": "a: 1\nsettings:\n  token: ${API_TOKEN}\n"])
        defer { fixture.remove() }
        let file = fixture.url("tree.yaml")
        let root = try ConfigLoader(environment: [:]).loadTree(file: file)
        let token = try #require(root["settings"]?["token"])
        #expect(token.keyPath == "settings.token")
        let error = #expect(throws: ConfigError.self) { try token.string() }
        #expect(error?.code == "config.unset_variable")
        #expect(error?.message.contains("API_TOKEN") == true)
        #expect(error?.message.contains("\(file.path):3") == true)
        #expect(error?.message.contains("settings.token") == true)
    }

    @Test(arguments: ["${", "${A", "${}", "${1A}", "${A:-x", "${A-x}", "${A B}", "${A:-${B}"])
    func malformedReferencesAreErrors(_ value: String) throws {
        let fixture = try ConfigFixture(["tree.yaml": "first: ok\nsecret: \"\(value)\"\n"])
        defer { fixture.remove() }
        let error = #expect(throws: ConfigError.self) {
            try ConfigLoader(environment: ["A": "sensitive-value"]).loadTree(file: fixture.url("tree.yaml"))
        }
        #expect(error?.code == "config.malformed_variable")
        #expect(error?.location?.line == 2)
        #expect(error?.key == "secret")
        #expect(error?.message.contains("sensitive-value") == false)
    }

    @Test func keysAreNotSubstituted() throws {
        let root = try tree("${A}: 1\n", environment: ["A": "x"])
        #expect(root["${A}"]?.debugText == "scalar:1")
        #expect(root["x"] == nil)
    }

    @Test func substitutedTextIsNotNullButLiteralNullIs() throws {
        let root = try tree("a: ${EMPTY:-}\nb: ~\nc:\nd: \"null\"\n")
        #expect(root["a"]?.debugText == "scalar:")
        #expect(root["b"]?.debugText == "null")
        #expect(root["c"]?.debugText == "null")
        #expect(root["d"]?.debugText == "scalar:null")
    }
}
