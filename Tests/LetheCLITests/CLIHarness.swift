import Foundation
@testable import LetheCLI

/// Runs `lethe` commands in-process against a temporary state folder and a copy of a CSV.
struct CLIHarness {
    let root: URL
    let state: URL
    let csv: URL
    var variables: [String: String]

    static var repository: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    init(csvFixture: String = "config/examples/contacts.csv", variables extra: [String: String] = [:]) throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("lethe-cli-\(UUID().uuidString)")
        state = root.appendingPathComponent("state")
        csv = root.appendingPathComponent("contacts.csv")
        try FileManager.default.createDirectory(at: state, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: Self.repository.appendingPathComponent(csvFixture), to: csv)
        variables = ["LETHE_STATE_DIR": state.path, "LETHE_CSV_PATH": csv.path, "USER": "tester"].merging(extra) { $1 }
    }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String

        /// The last stdout line parsed as a JSON object.
        var json: [String: Any] {
            let line = stdout.split(separator: "\n").last.map(String.init) ?? ""
            return (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] ?? [:]
        }
    }

    func run(_ arguments: [String], config: String? = nil) async -> Result {
        let output = OutputSink.capturing()
        let configPath = config ?? Self.repository.appendingPathComponent("config/lethe.yaml").path
        let environment = CommandEnvironment(variables: variables, output: output)
        let status = await CommandEnvironment.$current.withValue(environment) {
            await LetheMain.run(arguments: arguments + ["--config", configPath])
        }
        return Result(status: status, stdout: output.standardOutput, stderr: output.standardError)
    }
}
