import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// A request as the loopback server saw it.
struct RecordedRequest: Sendable {
    var method: String
    var uri: String
    var headers: [(name: String, value: String)]
    var body: Data
    var arrival: ContinuousClock.Instant

    func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    var path: String { String(uri.prefix { $0 != "?" }) }

    /// The decoded query items (or form items of a body, with `formItems`).
    var queryItems: [String: String] { Self.decode(uri.contains("?") ? String(uri.drop { $0 != "?" }.dropFirst()) : "") }
    var formItems: [String: String] { Self.decode(String(decoding: body, as: UTF8.self)) }

    static func decode(_ text: String) -> [String: String] {
        var items: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding ?? String($0) }
            items[parts[0]] = parts.count > 1 ? parts[1] : ""
        }
        return items
    }
}

/// What the loopback server answers to one request.
struct ScriptedResponse: Sendable {
    var status: Int
    var headers: [(name: String, value: String)] = []
    var body: Data = Data()
    /// Wait this long before answering (the request counts as in flight meanwhile).
    var delay: Duration = .zero
    /// Announce the whole body in `Content-Length`, send only this many bytes, then close.
    var truncateAfter: Int?
    /// Answer only once this gate is opened (the request counts as in flight meanwhile).
    var gate: ResponseGate?

    static func json(_ status: Int = 200, _ text: String = "{}", headers: [(name: String, value: String)] = []) -> Self {
        ScriptedResponse(status: status, headers: [("Content-Type", "application/json")] + headers, body: Data(text.utf8))
    }
}

/// Holds answers back until a test opens it: an answer that waits on the test, not on a clock.
final class ResponseGate: @unchecked Sendable {
    private let lock = NSLock()
    private var opened = false
    private var waiting: [@Sendable () -> Void] = []

    func open() {
        lock.lock()
        opened = true
        let ready = waiting
        waiting = []
        lock.unlock()
        for answer in ready { answer() }
    }

    func whenOpen(_ answer: @escaping @Sendable () -> Void) {
        lock.lock()
        guard opened else {
            waiting.append(answer)
            lock.unlock()
            return
        }
        lock.unlock()
        answer()
    }
}

/// A tiny HTTP/1.1 server on 127.0.0.1 whose answers come from a closure (request, 0-based index).
/// Records every request with its arrival time, and the most requests it had in flight at once.
final class ScriptedHTTPServer: Sendable {
    typealias Handler = @Sendable (_ request: RecordedRequest, _ index: Int) -> ScriptedResponse

    final class State: @unchecked Sendable {
        private let lock = NSLock()
        private var recorded: [RecordedRequest] = []
        private var inFlight = 0
        private var maxInFlight = 0

        func begin(_ request: RecordedRequest) -> Int {
            lock.lock()
            defer { lock.unlock() }
            recorded.append(request)
            inFlight += 1
            maxInFlight = max(maxInFlight, inFlight)
            return recorded.count - 1
        }

        func end() {
            lock.lock()
            inFlight -= 1
            lock.unlock()
        }

        var requests: [RecordedRequest] {
            lock.lock()
            defer { lock.unlock() }
            return recorded
        }

        var mostInFlight: Int {
            lock.lock()
            defer { lock.unlock() }
            return maxInFlight
        }
    }

    let port: Int
    private let channel: any Channel
    private let state: State

    private init(port: Int, channel: any Channel, state: State) {
        self.port = port
        self.channel = channel
        self.state = state
    }

    static func start(_ handler: @escaping Handler) async throws -> ScriptedHTTPServer {
        let state = State()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(ScriptedHandler(state: state, handler: handler))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        guard let port = channel.localAddress?.port else { throw ChannelError.unknownLocalAddress }
        return ScriptedHTTPServer(port: port, channel: channel, state: state)
    }

    var baseURL: String { "http://127.0.0.1:\(port)" }
    var requests: [RecordedRequest] { state.requests }
    var maxInFlight: Int { state.mostInFlight }

    func stop() async throws {
        try await channel.close()
    }
}

private final class ScriptedHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let state: ScriptedHTTPServer.State
    private let handler: ScriptedHTTPServer.Handler
    private var head: HTTPRequestHead?
    private var body = Data()

    init(state: ScriptedHTTPServer.State, handler: @escaping ScriptedHTTPServer.Handler) {
        self.state = state
        self.handler = handler
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let received):
            head = received
            body = Data()
        case .body(let buffer):
            body.append(contentsOf: buffer.readableBytesView)
        case .end:
            guard let head else { return }
            let request = RecordedRequest(
                method: head.method.rawValue, uri: head.uri, headers: head.headers.map { ($0.name, $0.value) },
                body: body, arrival: .now
            )
            let index = state.begin(request)
            let response = handler(request, index)
            if let gate = response.gate {
                let loop = context.eventLoop
                let bound = NIOLoopBound((self, context), eventLoop: loop)
                gate.whenOpen { loop.execute { bound.value.0.respond(context: bound.value.1, response) } }
            } else if response.delay > .zero {
                let (seconds, attoseconds) = response.delay.components
                let amount = TimeAmount.nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
                context.eventLoop.assumeIsolated().scheduleTask(in: amount) { self.respond(context: context, response) }
            } else {
                respond(context: context, response)
            }
        }
    }

    private func respond(context: ChannelHandlerContext, _ response: ScriptedResponse) {
        var headers = HTTPHeaders(response.headers.map { ($0.name, $0.value) })
        headers.replaceOrAdd(name: "Content-Length", value: "\(response.body.count)")
        let head = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: response.status), headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if let cut = response.truncateAfter {
            let part = ByteBuffer(bytes: response.body.prefix(cut))
            context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(part))), promise: nil)
            state.end()
            context.close(promise: nil)
            return
        }
        if !response.body.isEmpty {
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: response.body)))), promise: nil)
        }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        state.end()
    }
}
