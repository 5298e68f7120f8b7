import Foundation

import RetentionTesting

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
    static let isAvailable = LoopbackProcess.pythonHas("aiosmtpd")

    let server: LoopbackProcess
    let store: URL
    var port: Int { server.port }
    /// The server's self-signed certificate (also its CA), nil without TLS.
    var certificate: String? { server.announced["CERT"] }

    /// - Parameters:
    ///   - tls: `starttls`, `implicit` or `none`.
    ///   - credentials: user and password the server requires, or nil for no AUTH.
    ///   - faults: `rcpt:451:1`-style answers for the next commands of a stage.
    init(tls: String = "starttls", credentials: (String, String)? = nil, faults: [String] = []) throws {
        store = FileManager.default.temporaryDirectory.appendingPathComponent("smtpd-\(UUID().uuidString)")
        var arguments = [Self.script.path, "--store", store.path, "--tls", tls]
        if let (user, password) = credentials { arguments += ["--user", user, "--password", password] }
        for fault in faults { arguments += ["--fail", fault] }
        server = try LoopbackProcess(python: arguments)
    }

    deinit {
        server.stop()
        try? FileManager.default.removeItem(at: store)
    }

    func stop() { server.stop() }

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
