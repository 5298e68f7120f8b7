public import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A helper server (a Python script) the tests start on loopback: it prints `KEY value` lines,
/// `LISTENING <port>` last, and exits when its stdin closes (so a test process that dies takes it
/// along) or on SIGTERM.
public final class LoopbackProcess: @unchecked Sendable {
    public let process = Process()
    private let input = Pipe()
    public let port: Int
    /// The `KEY value` lines printed before `LISTENING`, by key (`CERT` → a path).
    public let announced: [String: String]

    public init(python arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardInput = input
        process.standardError = FileHandle.nullDevice
        try process.run()
        var text = ""
        while !text.contains("LISTENING ") || !text.hasSuffix("\n") {
            let chunk = output.fileHandleForReading.availableData
            guard !chunk.isEmpty else { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        var announced: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
            if parts.count == 2 { announced[parts[0]] = parts[1] }
        }
        guard let port = announced["LISTENING"].flatMap(Int.init) else {
            process.terminate()
            throw CocoaError(.fileReadCorruptFile)
        }
        self.port = port
        self.announced = announced
    }

    deinit { stop() }

    /// Closes stdin (the server exits on EOF), then SIGTERM, then SIGKILL. Polls instead of
    /// `waitUntilExit`, which spins off the main thread on Linux.
    public func stop() {
        guard process.isRunning else { return }
        try? input.fileHandleForWriting.close()
        process.terminate()
        for _ in 0..<100 where process.isRunning { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    /// Whether `python3` can import `module` (within 10 s).
    public static func pythonHas(_ module: String) -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import \(module)"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        for _ in 0..<500 where process.isRunning { usleep(20_000) }
        return !process.isRunning && process.terminationStatus == 0
    }
}
