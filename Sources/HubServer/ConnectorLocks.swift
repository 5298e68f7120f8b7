/// A connector never runs twice at once: scheduled syncs, webhook processing and API-triggered
/// syncs of one connector take turns.
public actor ConnectorLocks {
    private var busy: Set<String> = []
    private var waiters: [String: [CheckedContinuation<Void, Never>]] = [:]

    public init() {}

    public var running: Set<String> { busy }

    /// Runs `body` while holding the connector's lock, waiting for it if needed.
    public func withLock<T: Sendable>(_ connector: String, _ body: @Sendable () async throws -> T) async throws -> T {
        while busy.contains(connector) {
            await withCheckedContinuation { waiters[connector, default: []].append($0) }
        }
        busy.insert(connector)
        defer { release(connector) }
        return try await body()
    }

    /// Runs `body` only when the connector is free; `nil` when it is busy.
    public func ifFree<T: Sendable>(_ connector: String, _ body: @Sendable () async throws -> T) async throws -> T? {
        guard !busy.contains(connector) else { return nil }
        return try await withLock(connector, body)
    }

    private func release(_ connector: String) {
        busy.remove(connector)
        if var queue = waiters[connector], !queue.isEmpty {
            let next = queue.removeFirst()
            waiters[connector] = queue.isEmpty ? nil : queue
            next.resume()
        }
    }
}
