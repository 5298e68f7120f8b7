import CCurl
import Dispatch
import Foundation

/// One libcurl easy handle, used by one send at a time on a private serial queue (so the blocking
/// `curl_easy_perform` never runs on Swift's cooperative pool). Reusing the handle keeps the SMTP
/// connection alive between messages; curl reconnects when the server has closed it, and drops
/// it after a failed transaction.
///
/// Nothing the server or curl reports is kept except the last reply line and the last command
/// verb (`MAIL`, `RCPT`, `DATA`, `AUTH`): outgoing arguments (addresses, credentials) and
/// message bytes are never recorded.
final class SMTPTransport: @unchecked Sendable {
    /// `curl_global_init` once per process, before the first handle.
    private static let globalInit: CURLcode = curl_global_init(Int(CURL_GLOBAL_ALL))

    private let queue = DispatchQueue(label: "lethe.smtp.transport")
    private let configuration: SMTPConfiguration
    private let caFile: String?
    private let transcript = Transcript()
    // Only touched on `queue`.
    private var handle: UnsafeMutableRawPointer?
    private var isClosed = false

    init(configuration: SMTPConfiguration, caFile: String?) throws(SMTPError) {
        guard Self.globalInit == CURLE_OK else {
            throw SMTPError(code: "smtp.setup", message: "libcurl could not be initialised", isTransient: false)
        }
        self.configuration = configuration
        self.caFile = caFile
    }

    deinit {
        if let handle { curl_easy_cleanup(handle) }
    }

    /// Sends `message` from `sender` to `recipients` (bare addresses). Cancelling the calling task
    /// aborts the transfer at curl's next progress check.
    func send(from sender: String, to recipients: [String], message: [UInt8]) async throws(SMTPError) {
        let upload = Upload(bytes: message)
        let result: Result<Void, SMTPError> = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                queue.async {
                    continuation.resume(
                        returning: Result { () throws(SMTPError) in
                            try self.perform(from: sender, to: recipients, upload: upload)
                        })
                }
            }
        } onCancel: {
            upload.cancel()
        }
        try result.get()
    }

    /// Closes the connection (curl sends QUIT) and refuses later sends.
    func close() async {
        await withCheckedContinuation { continuation in
            queue.async {
                self.isClosed = true
                if let handle = self.handle { curl_easy_cleanup(handle) }
                self.handle = nil
                continuation.resume()
            }
        }
    }

    // MARK: On the queue

    private func perform(from sender: String, to recipients: [String], upload: Upload) throws(SMTPError) {
        guard !isClosed else { throw .closed }
        guard !upload.isCancelled else { throw .cancelled }
        let curl = try openHandle()

        var list: UnsafeMutablePointer<curl_slist>?
        for recipient in recipients { list = curl_slist_append(list, "<\(recipient)>") }
        defer {
            curl_slist_free_all(list)
            _ = lethe_curl_set_slist(curl, CURLOPT_MAIL_RCPT, nil)
            _ = lethe_curl_set_pointer(curl, CURLOPT_READDATA, nil)
            _ = lethe_curl_set_pointer(curl, CURLOPT_XFERINFODATA, nil)
        }
        let pointer = Unmanaged.passUnretained(upload).toOpaque()
        var setup = lethe_curl_set_string(curl, CURLOPT_MAIL_FROM, "<\(sender)>")
        setup = setup == CURLE_OK ? lethe_curl_set_slist(curl, CURLOPT_MAIL_RCPT, list) : setup
        setup = setup == CURLE_OK ? lethe_curl_set_pointer(curl, CURLOPT_READDATA, pointer) : setup
        setup = setup == CURLE_OK ? lethe_curl_set_pointer(curl, CURLOPT_XFERINFODATA, pointer) : setup
        guard setup == CURLE_OK else { throw SMTPError.classify(setup, replyCode: 0, stage: nil, replyText: nil) }

        transcript.reset()
        let result = withExtendedLifetime(upload) { curl_easy_perform(curl) }
        guard result != CURLE_OK else { return }
        var replyCode = 0
        _ = lethe_curl_get_response_code(curl, &replyCode)
        if let refusal = transcript.refusal {
            throw SMTPError.classify(result, replyCode: refusal.code, stage: refusal.command, replyText: refusal.line)
        }
        throw SMTPError.classify(result, replyCode: replyCode, stage: nil, replyText: nil)
    }

    /// The handle, created with the connection-wide options on first use.
    private func openHandle() throws(SMTPError) -> UnsafeMutableRawPointer {
        if let handle { return handle }
        guard let curl = curl_easy_init() else {
            throw SMTPError(code: "smtp.setup", message: "libcurl could not create a handle", isTransient: true)
        }
        let configuration = self.configuration
        let timeout =
            Int(configuration.timeout.components.seconds * 1000)
            + Int(configuration.timeout.components.attoseconds / 1_000_000_000_000_000)
        let useSSL: curl_usessl =
            switch configuration.startTLS {
            case .required: CURLUSESSL_ALL
            case .optional: CURLUSESSL_TRY
            case .off: CURLUSESSL_NONE
            }
        var results: [CURLcode] = [
            lethe_curl_set_string(curl, CURLOPT_URL, configuration.url),
            lethe_curl_set_long(curl, CURLOPT_NOSIGNAL, 1),
            lethe_curl_set_long(curl, CURLOPT_UPLOAD, 1),
            lethe_curl_set_long(curl, CURLOPT_USE_SSL, Int(useSSL.rawValue)),
            lethe_curl_set_long(curl, CURLOPT_CONNECTTIMEOUT_MS, timeout),
            lethe_curl_set_long(curl, CURLOPT_TIMEOUT_MS, timeout),
            lethe_curl_set_read_callback(curl, SMTPTransport.readCallback),
            lethe_curl_set_long(curl, CURLOPT_NOPROGRESS, 0),
            lethe_curl_set_xferinfo_callback(curl, SMTPTransport.progressCallback),
            // Verbose output goes only to the debug callback, which keeps reply lines and verbs.
            lethe_curl_set_long(curl, CURLOPT_VERBOSE, 1),
            lethe_curl_set_debug_callback(curl, SMTPTransport.debugCallback),
            lethe_curl_set_pointer(curl, CURLOPT_DEBUGDATA, Unmanaged.passUnretained(transcript).toOpaque()),
        ]
        if let user = configuration.user, let password = configuration.password {
            results.append(lethe_curl_set_string(curl, CURLOPT_USERNAME, user))
            results.append(lethe_curl_set_string(curl, CURLOPT_PASSWORD, password))
        }
        if let mechanism = configuration.authMechanism {
            results.append(lethe_curl_set_string(curl, CURLOPT_LOGIN_OPTIONS, "AUTH=\(mechanism)"))
        }
        if let caFile { results.append(lethe_curl_set_string(curl, CURLOPT_CAINFO, caFile)) }
        if configuration.insecureSkipVerify {
            results.append(lethe_curl_set_long(curl, CURLOPT_SSL_VERIFYPEER, 0))
            results.append(lethe_curl_set_long(curl, CURLOPT_SSL_VERIFYHOST, 0))
        }
        if let failed = results.first(where: { $0 != CURLE_OK }) {
            curl_easy_cleanup(curl)
            throw SMTPError.classify(failed, replyCode: 0, stage: nil, replyText: nil)
        }
        handle = curl
        return curl
    }

    // MARK: Callbacks

    private static let readCallback: curl_read_callback = { buffer, size, count, userdata in
        guard let buffer, let userdata else { return 0 }
        let upload = Unmanaged<Upload>.fromOpaque(userdata).takeUnretainedValue()
        return upload.read(into: UnsafeMutableRawPointer(buffer), capacity: size * count)
    }

    private static let progressCallback: curl_xferinfo_callback = { userdata, _, _, _, _ in
        guard let userdata else { return 0 }
        return Unmanaged<Upload>.fromOpaque(userdata).takeUnretainedValue().isCancelled ? 1 : 0
    }

    private static let debugCallback: curl_debug_callback = { _, type, data, size, userdata in
        guard let data, let userdata else { return 0 }
        let transcript = Unmanaged<Transcript>.fromOpaque(userdata).takeUnretainedValue()
        switch type {
        case CURLINFO_HEADER_IN:
            transcript.record(reply: UnsafeRawBufferPointer(start: data, count: size))
        case CURLINFO_HEADER_OUT:
            transcript.record(command: UnsafeRawBufferPointer(start: data, count: size))
        default:
            break
        }
        return 0
    }
}

/// The bytes of one message being uploaded, and its cancellation flag.
final class Upload: @unchecked Sendable {
    private let bytes: [UInt8]
    private var offset = 0
    private let lock = NSLock()
    private var cancelled = false

    init(bytes: [UInt8]) { self.bytes = bytes }

    var isCancelled: Bool { lock.withLock { cancelled } }

    func cancel() { lock.withLock { cancelled = true } }

    /// Copies the next bytes into curl's buffer; 0 at the end.
    func read(into buffer: UnsafeMutableRawPointer, capacity: Int) -> Int {
        let count = min(capacity, bytes.count - offset)
        guard count > 0 else { return 0 }
        bytes.withUnsafeBytes { source in
            buffer.copyMemory(from: source.baseAddress! + offset, byteCount: count)
        }
        offset += count
        return count
    }
}

/// The first 4xx/5xx reply of a transfer and the verb of the command it answered, nothing more:
/// outgoing arguments and later exchanges (curl's QUIT after a failure) are not kept.
final class Transcript: @unchecked Sendable {
    struct Refusal {
        var code: Int
        var command: String?
        var line: String
    }

    private static let verbs: Set<String> = [
        "EHLO", "HELO", "STARTTLS", "AUTH", "MAIL", "RCPT", "DATA", "RSET", "QUIT",
    ]
    private(set) var refusal: Refusal?
    private var lastCommand: String?

    func reset() {
        refusal = nil
        lastCommand = nil
    }

    /// A reply line (`451 4.3.0 text`, or a `250-` continuation); the first refusal is kept.
    func record(reply bytes: UnsafeRawBufferPointer) {
        guard refusal == nil, bytes.count >= 3 else { return }
        let digits = bytes.prefix(3)
        guard digits.allSatisfy({ (0x30...0x39).contains($0) }), let first = digits.first,
            first == 0x34 || first == 0x35,
            let code = Int(String(decoding: digits, as: UTF8.self))
        else { return }
        let line = String(decoding: bytes.prefix(512), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        refusal = Refusal(code: code, command: lastCommand, line: line)
    }

    func record(command bytes: UnsafeRawBufferPointer) {
        guard refusal == nil else { return }
        let head = bytes.prefix(9).prefix { $0 != 0x20 && $0 != 0x0D && $0 != 0x0A }
        let verb = String(decoding: head, as: UTF8.self)
        if Self.verbs.contains(verb) { lastCommand = verb == "HELO" ? "EHLO" : verb }
    }
}
