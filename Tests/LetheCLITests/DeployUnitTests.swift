import Foundation
import Testing

/// `deploy/lethe.service` is a unit systemd accepts as written, and keeps its sandbox: systemd's own
/// offline analysis rates its exposure at most 2.0 of 10 ("OK").
@Suite struct DeployUnitTests {
    static let analyzer = ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"].first { FileManager.default.isExecutableFile(atPath: $0) }

    struct Outcome {
        var status: Int32
        var output: String
    }

    static func analyze(_ arguments: [String]) throws -> Outcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(analyzer))
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Outcome(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
    }

    /// The shipped unit, its `ExecStart` pointed at the built binary (verify checks that it exists).
    static func unit(replacing original: String? = nil, with replacement: String = "") throws -> (folder: URL, path: String) {
        var text = try String(contentsOf: CLIHarness.repository.appendingPathComponent("deploy/lethe.service"), encoding: .utf8)
        let binary = try #require(RunDaemonTests.binary, "build the tests first: the unit's ExecStart must exist")
        text = text.replacingOccurrences(of: "/usr/local/bin/lethe", with: binary.path)
        if let original { text = text.replacingOccurrences(of: original, with: replacement) }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lethe-unit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let path = folder.appendingPathComponent("lethe.service").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return (folder, path)
    }

    @Test(.enabled(if: analyzer != nil, "systemd-analyze is missing: apt-get install systemd"))
    func systemdAcceptsTheUnitAsWritten() throws {
        let (folder, path) = try Self.unit()
        defer { try? FileManager.default.removeItem(at: folder) }
        let verified = try Self.analyze(["verify", path])
        #expect(verified.status == 0 && verified.output.isEmpty, "\(verified.output)")

        // The check sees a mistake: a misspelt value is reported (systemd would ignore the setting).
        let (badFolder, badPath) = try Self.unit(replacing: "ProtectSystem=strict", with: "ProtectSystem=strictly")
        defer { try? FileManager.default.removeItem(at: badFolder) }
        #expect(try Self.analyze(["verify", badPath]).output.contains("strictly") == true)
    }

    @Test(.enabled(if: analyzer != nil, "systemd-analyze is missing: apt-get install systemd"))
    func theSandboxKeepsTheExposureLow() throws {
        let (folder, path) = try Self.unit()
        defer { try? FileManager.default.removeItem(at: folder) }
        let rated = try Self.analyze(["security", "--offline=yes", "--threshold=20", path])
        #expect(rated.status == 0, "\(rated.output.split(separator: "\n").suffix(3).joined(separator: "\n"))")

        // Without the system-call filter and the capability bounds the same check fails.
        var text = try String(contentsOfFile: path, encoding: .utf8)
        text = text.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.hasPrefix("SystemCall") && !$0.hasPrefix("CapabilityBoundingSet") && !$0.hasPrefix("Private") && !$0.hasPrefix("Protect") }
            .joined(separator: "\n")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try Self.analyze(["security", "--offline=yes", "--threshold=20", path]).status != 0)
    }
}
