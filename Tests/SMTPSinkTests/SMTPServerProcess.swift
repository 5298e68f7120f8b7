import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The loopback SMTP server (smtpd.py beside this file, aiosmtpd) running for one test.
final class SMTPServerProcess: @unchecked Sendable {
    /// One message the server accepted: the DATA bytes and the envelope.
    struct Received {
        var bytes: [UInt8]
        var mailFrom: String
        var recipients: [String]
        /// The client's port: messages that share it came over one connection.
        var peerPort: Int
        var authenticated: Bool
    }

    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("smtpd.py")

    /// Whether `python3` can import aiosmtpd (scripts/ensure-smtpd.sh installs it).
    static let isAvailable: Bool = {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import aiosmtpd"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        for _ in 0..<500 where process.isRunning { usleep(20_000) }
        return !process.isRunning && process.terminationStatus == 0
    }()

    let process = Process()
    let input = Pipe()
    let store: URL
    let port: Int
    /// The server's self-signed certificate (also its CA), nil without TLS.
    let certificate: String?

    /// - Parameters:
    ///   - tls: `starttls`, `implicit` or `none`.
    ///   - credentials: user and password the server requires, or nil for no AUTH.
    ///   - faults: `rcpt:451:1`-style answers for the next commands of a stage.
    init(tls: String = "starttls", credentials: (String, String)? = nil, faults: [String] = []) throws {
        store = FileManager.default.temporaryDirectory.appendingPathComponent("smtpd-\(UUID().uuidString)")
        var arguments = ["python3", Self.script.path, "--store", store.path, "--tls", tls]
        if let (user, password) = credentials { arguments += ["--user", user, "--password", password] }
        for fault in faults { arguments += ["--fail", fault] }
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
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
        let lines = text.split(separator: "\n")
        guard let found = lines.first(where: { $0.hasPrefix("LISTENING ") }), let port = Int(found.dropFirst(10)) else {
            process.terminate()
            throw CocoaError(.fileReadCorruptFile)
        }
        self.port = port
        certificate = lines.first { $0.hasPrefix("CERT ") }.map { String($0.dropFirst(5)) }
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: store)
    }

    /// Closes stdin (the server exits on EOF), then SIGTERM, then SIGKILL. Polls instead of
    /// `waitUntilExit`, which spins off the main thread on Linux.
    func stop() {
        guard process.isRunning else { return }
        try? input.fileHandleForWriting.close()
        process.terminate()
        for _ in 0..<100 where process.isRunning { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    /// The accepted messages, in the order they arrived.
    func received() throws -> [Received] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: store.path)) ?? [])
            .filter { $0.hasSuffix(".eml") }.sorted()
        return try names.map { name in
            let base = store.appendingPathComponent(String(name.dropLast(4)))
            let bytes = try [UInt8](Data(contentsOf: base.appendingPathExtension("eml")))
            let json = try JSONSerialization.jsonObject(with: Data(contentsOf: base.appendingPathExtension("json")))
            let envelope = json as? [String: Any] ?? [:]
            return Received(
                bytes: bytes, mailFrom: envelope["mail_from"] as? String ?? "",
                recipients: envelope["rcpt_tos"] as? [String] ?? [], peerPort: envelope["peer_port"] as? Int ?? 0,
                authenticated: envelope["authenticated"] as? Bool ?? false)
        }
    }
}
