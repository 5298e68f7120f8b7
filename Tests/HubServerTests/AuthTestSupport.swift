import Foundation
import HTTPTypes
import HubServer
import Hummingbird
import HummingbirdTesting
import NIOCore
import RetentionCore
import RetentionStore
import RetentionTesting
import SyncCoordinator

/// A hub with named operators (`kim`, `lee`) besides the admin token, a wall clock the test moves,
/// and an in-memory CRM of `records`.
struct AuthHarness {
    static let adminToken = "admin-token-for-the-auth-tests-0123456789"
    static let kimToken = "kim-token-for-the-auth-tests-0123456789abc"
    static let leeToken = "lee-token-for-the-auth-tests-0123456789abc"
    static let linkSecret = Data(repeating: 9, count: 32)

    let crm: InMemoryCRM
    let store: SQLiteStateStore
    let wallClock: SettableClock
    let hub: Hub

    init(
        _ records: [SourceRecord] = [], adminToken: String? = AuthHarness.adminToken, operators: [String: String] = ["kim": kimToken, "lee": leeToken],
        publicURL: String = "https://lethe.example.com", twoPersonAbove: Int? = nil, failuresPerMinute: Int = 20,
        safety: ConnectorRuntime.Safety = .init(maxDeletesPerRun: 1, maxDeleteFraction: 1.0), store: SQLiteStateStore? = nil,
        wallClock: SettableClock = SettableClock(date("2026-12-01T09:00:00+09:00"))
    ) throws {
        crm = InMemoryCRM(records)
        self.store = try store ?? SQLiteStateStore(
            path: FileManager.default.temporaryDirectory.appendingPathComponent("lethe-auth-\(UUID().uuidString)/lethe.sqlite"))
        self.wallClock = wallClock
        let links = ConsentLinkSigner(secret: Self.linkSecret, baseURL: publicURL)
        let clock = FixedClock(date("2026-11-29T09:00:00+09:00"))
        let coordinator = SyncCoordinator(
            store: self.store, sinks: SinkSet(notices: RecordingNoticeSink(), archive: nil, sender: "privacy@example.org", renderer: NoticeRenderer(templatesDirectory: nil), links: links),
            clock: clock, log: { _, _, _ in }, retry: RetryPolicy(maxAttempts: 2, baseDelay: .milliseconds(1), maxDelay: .milliseconds(2), runDeadline: .seconds(5)))
        var configuration = HubConfiguration(port: 8080, publicURL: publicURL, adminToken: adminToken)
        configuration.operators = operators.keys.sorted().map { HubOperator(name: $0, token: operators[$0]!) }
        configuration.twoPersonAbove = twoPersonAbove
        configuration.signInFailureDelay = .zero
        configuration.signInFailuresPerMinute = failuresPerMinute
        let runtime = ConnectorRuntime(name: "crm", policy: .krPIPA, safety: safety, source: crm, writer: crm)
        hub = Hub(configuration: configuration, store: self.store, coordinator: coordinator, connectors: [HubConnector(runtime: runtime)],
                  clock: clock, wallClock: wallClock, log: { _, _, _ in }, consentLinks: links)
    }

    func test(_ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        try await Application(router: hub.router()).test(.router, body)
    }

    static func bearer(_ token: String) -> HTTPFields { [.authorization: "Bearer \(token)"] }

    static let form: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]

    static func formBody(_ fields: [String: String]) -> ByteBuffer {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return ByteBuffer(string: fields.keys.sorted().map { "\($0)=\(fields[$0]!.addingPercentEncoding(withAllowedCharacters: allowed)!)" }.joined(separator: "&"))
    }

    /// Signs in with `token`; the session cookie's value.
    static func signIn(_ client: any TestClientProtocol, token: String) async throws -> String {
        try await client.execute(uri: "/signin", method: .post, headers: form, body: formBody(["token": token, "next": "/"])) { response in
            let header = response.headers[.setCookie] ?? ""
            guard response.status == .seeOther, let value = header.split(separator: ";").first?.split(separator: "=", maxSplits: 1).last else {
                return ""
            }
            return String(value)
        }
    }

    static func request(_ path: String, _ headers: HTTPFields) -> Request {
        Request(head: .init(method: .get, scheme: "http", authority: "x", path: path, headerFields: headers), body: .init(buffer: ByteBuffer()))
    }

    static func cookie(_ session: String) -> HTTPFields { [.cookie: "\(HubAuthenticator.cookieName)=\(session)"] }
}
