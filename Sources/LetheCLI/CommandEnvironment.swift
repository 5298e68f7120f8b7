public import Foundation

/// Where a command's output goes: the process's stdout/stderr, or a capture for tests.
public final class OutputSink: @unchecked Sendable {
    private let lock = NSLock()
    private let capture: Bool
    private var captured: (out: String, err: String) = ("", "")

    private init(capture: Bool) {
        self.capture = capture
    }

    public static let standard = OutputSink(capture: false)
    public static func capturing() -> OutputSink { OutputSink(capture: true) }

    public func out(_ text: String) {
        lock.withLock {
            if capture { captured.out += text + "\n" } else { FileHandle.standardOutput.write(Data((text + "\n").utf8)) }
        }
    }

    public func err(_ text: String) {
        lock.withLock {
            if capture { captured.err += text + "\n" } else { FileHandle.standardError.write(Data((text + "\n").utf8)) }
        }
    }

    /// Raw bytes to stdout (file exports).
    public func write(_ data: Data) {
        lock.withLock {
            if capture { captured.out += String(decoding: data, as: UTF8.self) } else { FileHandle.standardOutput.write(data) }
        }
    }

    public var standardOutput: String { lock.withLock { captured.out } }
    public var standardError: String { lock.withLock { captured.err } }
}

/// The outside world of a command: environment variables and output. Commands never read
/// `ProcessInfo` or print directly, so tests run them in-process.
public struct CommandEnvironment: Sendable {
    public var variables: [String: String]
    public var output: OutputSink

    public init(variables: [String: String], output: OutputSink) {
        self.variables = variables
        self.output = output
    }

    @TaskLocal public static var current = CommandEnvironment(variables: ProcessInfo.processInfo.environment, output: .standard)
}
