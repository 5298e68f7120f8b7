public import Foundation
public import Hummingbird
import NIOCore
import RetentionCore
import RetentionStore
import SyncCoordinator

extension Hub {
    /// Every route of the daemon (docs/openapi.yaml describes them; a test checks they agree).
    public func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/healthz") { _, _ in Self.json(.ok, ["status": "ok"]) }
        router.get("/readyz") { _, _ in await self.ready() }
        addMetricsRoute(to: router)
        router.post("/webhooks/:connector") { request, context in await self.receiveWebhook(request, context: context) }
        addAdminRoutes(to: router)
        addConsentRoutes(to: router)
        addDashboardRoutes(to: router)
        addSignInRoutes(to: router)
        return router
    }

    // MARK: Health

    func ready() async -> Response {
        do {
            _ = try await store.liveCount(connector: "")
            return Self.json(.ok, ["status": "ready"])
        } catch {
            return Self.json(.serviceUnavailable, ["status": "unavailable", "error": "store.unreachable"])
        }
    }

    /// `/metrics`, behind `Authorization: Bearer $LETHE_METRICS_TOKEN` (unset: 404). Served by the
    /// main listener and by the metrics listener (`LETHE_METRICS_ADDRESS`).
    public func addMetricsRoute(to router: Router<BasicRequestContext>) {
        router.group("metrics")
            .add(middleware: BearerTokenMiddleware(token: configuration.metricsToken) { Hub.error(.notFound, "not_found", "no such route") })
            .get { _, _ in await self.metricsResponse() }
    }

    /// The metrics listener's routes: `/metrics` alone.
    public func metricsRouter() -> Router<BasicRequestContext> {
        let router = Router()
        addMetricsRoute(to: router)
        return router
    }

    func metricsResponse() async -> Response {
        await metrics.refreshIfStale(store: store, policies: policies, now: clock.now(), at: wallClock.now())
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: metrics.exposition())))
    }

    // MARK: Webhooks

    /// Persist, then acknowledge: a 2xx means the events are durable. Every refusal changes nothing.
    func receiveWebhook(_ request: Request, context: BasicRequestContext) async -> Response {
        let name = context.parameters.get("connector") ?? ""
        guard let endpoint = connectors[name]?.webhook else {
            metrics.webhook(connector: connectors[name] == nil ? "unknown" : name, accepted: false, reason: "unknown_connector")
            return Self.error(.notFound, "unknown_connector", "no connector named '\(name.prefix(40))' takes webhooks")
        }
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: configuration.webhookBodyLimit)
        } catch {
            metrics.webhook(connector: name, accepted: false, reason: "too_large")
            return Self.error(.contentTooLarge, "too_large", "the body exceeds \(configuration.webhookBodyLimit) bytes")
        }
        let data = Data(body.readableBytesView)
        let headers = request.headers.map { (name: $0.name.canonicalName, value: $0.value) }
        let uri = configuration.publicURL + request.uri.description
        if let reason = endpoint.verify(request.method.rawValue, uri, headers, data, wallClock.now()) {
            metrics.webhook(connector: name, accepted: false, reason: reason)
            log(.warning, "webhook rejected", ["connector": name, "reason": reason])
            return Self.error(.unauthorized, reason, "the delivery is not authentic")
        }
        let events: [WebhookEventDraft]
        do {
            events = try endpoint.events(data)
        } catch {
            metrics.webhook(connector: name, accepted: false, reason: "malformed")
            return Self.error(.badRequest, "malformed", "the body is not a delivery this connector understands")
        }
        do {
            let acceptance = try await store.acceptWebhookEvents(connector: name, events: events, at: clock.now())
            metrics.webhook(connector: name, accepted: true, reason: acceptance.accepted == 0 && acceptance.replayed > 0 ? "replay" : "ok")
            metrics.webhookEvents(connector: name, accepted: acceptance.accepted, replayed: acceptance.replayed)
            if acceptance.accepted > 0 { await wakeProcessor() }
            return Self.json(.ok, ["accepted": acceptance.accepted, "replayed": acceptance.replayed])
        } catch {
            // Not persisted: the provider must deliver again.
            metrics.webhook(connector: name, accepted: false, reason: "store_unavailable")
            log(.error, "webhook not persisted", ["connector": name])
            return Self.error(.serviceUnavailable, "store_unavailable", "the delivery could not be stored; retry later")
        }
    }

    // MARK: Responses

    static func json(_ status: HTTPResponse.Status, _ value: some Encodable) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func error(_ status: HTTPResponse.Status, _ code: String, _ message: String) -> Response {
        json(status, ["error": code, "message": message])
    }
}
