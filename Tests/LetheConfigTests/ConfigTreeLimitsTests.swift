import Foundation
import LetheConfig
import RetentionCore
import Testing

/// YAML aliases are expanded before a tree is built, so a short file can stand for billions of nodes.
@Suite("YAML tree limits")
struct ConfigTreeLimitsTests {
    /// Nine levels of ten aliases each: 10⁹ scalars from a 400-byte file. Without a limit, loading it runs
    /// out of memory.
    static let aliasBomb: String = {
        var text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...8 {
            text += "a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ") + "]\n"
        }
        return text
    }()

    private func loadTree(_ yaml: String) throws(ConfigError) -> ConfigNode {
        let fixture: ConfigFixture
        do {
            fixture = try ConfigFixture(["tree.yaml": yaml])
        } catch {
            fatalError("cannot write the fixture: \(error)")
        }
        defer { fixture.remove() }
        return try ConfigLoader(environment: [:]).loadTree(file: fixture.url("tree.yaml"))
    }

    @Test func anAliasBombIsRefusedWithALocation() {
        #expect {
            _ = try loadTree(Self.aliasBomb)
        } throws: { error in
            guard let error = error as? ConfigError else { return false }
            return error.code == "config.too_large" && (error.location?.line ?? 0) >= 1
                && error.message.contains("100000 values")
        }
    }

    @Test func aScalarRepeatedPastSixteenMebibytesIsRefused() {
        let large = String(repeating: "y", count: 1 << 20)
        let yaml = "big: &big \(large)\ncopies: [" + Array(repeating: "*big", count: 16).joined(separator: ", ") + "]\n"
        #expect {
            _ = try loadTree(yaml)
        } throws: { error in
            (error as? ConfigError)?.code == "config.too_large"
        }
    }

    @Test func aliasesWithinTheLimitsStillWork() throws {
        let root = try loadTree(
            """
            defaults: &defaults {encoding: cp949, delimiter: ";"}
            connectors:
              - {name: a, settings: *defaults}
              - {name: b, settings: *defaults}
            """)
        let connectors = try #require(root["connectors"]).items()
        #expect(try connectors.map { try $0["settings"]?["encoding"]?.string() } == ["cp949", "cp949"])
        #expect(connectors[1]["settings"]?["delimiter"]?.keyPath == "connectors[1].settings.delimiter")
    }
}
