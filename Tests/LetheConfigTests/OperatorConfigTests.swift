import Foundation
import LetheConfig
import RetentionCore
import Testing

/// `operators:` and `approval:` in the main config.
struct OperatorConfigTests {
    static let kimHash = "sha256:" + String(repeating: "ab", count: 32)
    static let leeHash = "sha256:" + String(repeating: "0F", count: 32)

    static func config(_ tail: String) -> String {
        ConfigFixture.minimalConfig + "\n" + tail
    }

    @Test func operatorsAndTheFourEyesRuleAreRead() throws {
        let fixture = try ConfigFixture.withPolicy(Self.config("""
            operators:
              - name: kim.privacy
                tokenHash: \(Self.kimHash)
              - name: lee
                tokenHash: \(Self.leeHash)
            approval:
              twoPersonAbove: 50
            """))
        defer { fixture.remove() }
        let configuration = try ConfigLoader(environment: [:]).load(file: fixture.url())
        #expect(configuration.operators.map(\.name) == ["kim.privacy", "lee"])
        #expect(configuration.operators[0].tokenDigest == [UInt8](repeating: 0xab, count: 32))
        #expect(configuration.operators[1].tokenDigest == [UInt8](repeating: 0x0f, count: 32))
        #expect(configuration.approval.twoPersonAbove == 50)
    }

    @Test func withoutThemNobodyIsConfiguredAndOneApprovalSuffices() throws {
        let fixture = try ConfigFixture.withPolicy(ConfigFixture.minimalConfig)
        defer { fixture.remove() }
        let configuration = try ConfigLoader(environment: [:]).load(file: fixture.url())
        #expect(configuration.operators.isEmpty)
        #expect(configuration.approval.twoPersonAbove == nil)
    }

    @Test(arguments: [
        "sha256:abc", "md5:" + String(repeating: "ab", count: 32), String(repeating: "ab", count: 32),
        "sha256:" + String(repeating: "zz", count: 32), "sha256:" + String(repeating: "ab", count: 33),
    ])
    func aMalformedTokenHashNamesFileLineAndKey(_ hash: String) throws {
        let fixture = try ConfigFixture.withPolicy(Self.config("""
            operators:
              - name: kim
                tokenHash: \(Self.kimHash)
              - name: lee
                tokenHash: "\(hash)"
            """))
        defer { fixture.remove() }
        let error = try #require(fixture.loadError())
        #expect(error.code == "config.token_hash")
        #expect(error.key == "operators[1].tokenHash")
        #expect(error.location?.file == fixture.url().path)
        #expect(error.location?.line == 14)
        #expect(error.problem.contains("sha256sum"), "the message says how to make one")
    }

    @Test func aDuplicateNameIsRefusedWithBothPlaces() throws {
        let fixture = try ConfigFixture.withPolicy(Self.config("""
            operators:
              - name: kim
                tokenHash: \(Self.kimHash)
              - name: kim
                tokenHash: \(Self.leeHash)
            """))
        defer { fixture.remove() }
        let error = try #require(fixture.loadError())
        #expect(error.code == "config.duplicate_operator")
        #expect(error.key == "operators[1].name")
        #expect(error.location?.line == 13)
        #expect(error.problem.contains("\(fixture.url().path):11"), "names where it was first used")
    }

    @Test(arguments: [("admin", "config.reserved_name"), ("Kim Minji", "config.invalid_name"), ("a/b", "config.invalid_name")])
    func reservedAndInvalidNames(_ name: String, _ code: String) throws {
        let fixture = try ConfigFixture.withPolicy(Self.config("""
            operators:
              - name: "\(name)"
                tokenHash: \(Self.kimHash)
            """))
        defer { fixture.remove() }
        let error = try #require(fixture.loadError())
        #expect(error.code == code)
        #expect(error.key == "operators[0].name")
        #expect(error.location?.line == 11)
    }

    @Test func unknownKeysAndBadRulesAreNamed() throws {
        let fixture = try ConfigFixture.withPolicy(Self.config("""
            operators:
              - name: kim
                token: plain-text-token
                tokenHash: \(Self.kimHash)
            approval:
              twoPersonAbove: -1
            """))
        defer { fixture.remove() }
        var errors: [ConfigError] = []
        do {
            _ = try ConfigLoader(environment: [:]).load(file: fixture.url())
        } catch {
            errors.append(error)
        }
        let error = try #require(errors.first)
        #expect(error.code == "config.unknown_key")
        #expect(error.key == "operators[0].token")
        #expect(error.location?.line == 12)
        let range = try ConfigFixture.withPolicy(Self.config("approval:\n  twoPersonAbove: -1\n"))
        defer { range.remove() }
        let rangeError = try #require(range.loadError())
        #expect(rangeError.code == "config.range")
        #expect(rangeError.key == "approval.twoPersonAbove")
        #expect(rangeError.location?.line == 11)
    }
}
