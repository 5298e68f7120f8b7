import RetentionTesting
import Foundation
@testable import RESTCRMConnector
import RetentionCore
import Testing

/// Cancelling a task ends its `send` promptly wherever it waits, and never costs a slot.
///
/// No upper time bounds (they flake on a loaded machine): the tests assert the order in which
/// requests end, or race the cancelled request against a generous timer that only a wait which
/// ignores cancellation could lose to.
struct RESTHTTPClientCancellationTests {
    /// Names of requests in the order they ended.
    final class Completions: @unchecked Sendable {
        private let lock = NSLock()
        private var names: [String] = []

        func ended(_ name: String) {
            lock.lock()
            names.append(name)
            lock.unlock()
        }

        var order: [String] {
            lock.lock()
            defer { lock.unlock() }
            return names
        }
    }

    /// Starts `send` in a task that records when it ends, successfully or not.
    static func start(_ path: String, _ client: RESTHTTPClient, _ completions: Completions) -> Task<Int, any Error> {
        Task {
            defer { completions.ended(path) }
            return try await client.send(HTTPRequestSpec(method: "GET", path: path)).status
        }
    }

    struct NeverHappened: Error, CustomStringConvertible {
        let what: String
        var description: String { "waited 30 s for \(what)" }
    }

    /// Waits for `condition`; after 30 s the test fails, naming what it waited for (a request that
    /// ended early on a loaded machine must not turn into a silent hang).
    static func waitUntil(_ what: @autoclosure () -> String, _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while !condition() {
            guard ContinuousClock.now < deadline else { throw NeverHappened(what: what()) }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// The task's result, or `nil` when `timer` ran out first (the task is then left cancelled).
    static func result<T: Sendable>(of task: Task<T, any Error>, before timer: Duration) async -> Result<T, any Error>? {
        await withTaskGroup(of: Result<T, any Error>?.self) { group in
            group.addTask { await task.result }
            group.addTask {
                try? await Task.sleep(for: timer)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }

    static func isCancellation(_ result: Result<Int, any Error>?) -> Bool {
        guard case .failure(let error) = result else { return false }
        return error is CancellationError
    }

    @Test(.timeLimit(.minutes(1)))
    func cancelledSlotWaiterEndsBeforeTheHolderAndTakesNoSlot() async throws {
        // The held request is answered only when the test opens the gate: it owns the only slot
        // until then, however slow the machine.
        let release = ResponseGate()
        try await withServer({ request, _ in
            var response = ScriptedResponse.json(200, "{}")
            if request.path == "/held" { response.gate = release }
            return response
        }, manifest: { base in
            manifestNode(["baseURL": .scalar(base), "rateLimit": ["maxConcurrent": "1"]])
        }) { server, client, _ in
            defer { release.open() }
            let completions = Completions()
            let held = Self.start("/held", client, completions)
            try await Self.waitUntil("the held request to reach the server") { !server.requests.isEmpty }
            let waiting = Self.start("/waiting", client, completions)
            try await Self.waitUntil("a request waiting for the slot (usage then: \(client.gate.slotUsage), ended: \(completions.order))") {
                client.gate.slotUsage.waiting == 1
            }
            try await Task.sleep(for: .milliseconds(100))
            waiting.cancel()
            // A waiter that ignored cancellation would wait for the slot, which the gate holds.
            let cancelled = await Self.result(of: waiting, before: .seconds(10))
            #expect(Self.isCancellation(cancelled), "\(String(describing: cancelled))")
            // The strict ordering: the waiter ended while the held request still owned its slot
            // (a waiter that ignored cancellation could only end after that slot was given back),
            // and it left the queue, so it cannot take the slot later.
            #expect(client.gate.slotUsage == (inFlight: 1, waiting: 0), "the cancelled waiter ended first and left the queue")
            #expect(server.requests.map(\.path) == ["/held"])

            // A third request afterwards queues behind the held one and gets the slot the
            // cancelled waiter would have taken, once the held answer is in.
            let after = Self.start("/after", client, completions)
            try await Self.waitUntil("the third request waiting for the slot") { client.gate.slotUsage.waiting == 1 }
            #expect(server.requests.map(\.path) == ["/held"], "nothing else is sent while the slot is held")
            let released = ContinuousClock.now
            release.open()
            #expect(try await held.value == 200)
            #expect(try await after.value == 200)
            #expect(completions.order.first == "/waiting" && completions.order.count == 3)
            #expect(server.requests.map(\.path) == ["/held", "/after"], "the cancelled request was never sent")
            #expect(try #require(server.requests.last).arrival >= released, "the third request was sent only after the held answer")
            #expect(client.gate.slotUsage == (inFlight: 0, waiting: 0), "every slot was given back")
            #expect(client.statistics.requests == 2)
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func cancelledBudgetWaiterEndsBeforeTheWindowAndUsesNoBudget() async throws {
        try await withServer({ _, _ in .json(200, "{}") }, manifest: { base in
            manifestNode(["baseURL": .scalar(base), "rateLimit": ["requests": "1", "per": "30s", "maxConcurrent": "2"]])
        }) { server, client, _ in
            let completions = Completions()
            #expect(try await Self.start("/first", client, completions).value == 200)
            let waiting = Self.start("/second", client, completions)
            // It holds a slot while it waits for the 30 s window.
            try await Self.waitUntil("a request holding a slot") { client.gate.slotUsage.inFlight == 1 }
            try await Task.sleep(for: .milliseconds(100))
            waiting.cancel()
            let outcome = await Self.result(of: waiting, before: .seconds(10))
            #expect(Self.isCancellation(outcome), "\(String(describing: outcome))")
            #expect(server.requests.map(\.path) == ["/first"])
            #expect(client.gate.slotUsage == (inFlight: 0, waiting: 0))
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func cancelledBackoffAndPauseEndBeforeTheRetryAfter() async throws {
        try await withServer({ _, _ in .json(429, "{}", headers: [("Retry-After", "30")]) }, manifest: { base in
            manifestNode(["baseURL": .scalar(base), "rateLimit": fastRetries])
        }) { server, client, _ in
            let completions = Completions()
            // Answered 429 with `Retry-After: 30`: it sleeps before its retry and pauses the client.
            let backingOff = Self.start("/limited", client, completions)
            try await Self.waitUntil("the first retry") { client.statistics.retries == 1 }
            // Admitted by no slot limit, it waits out the pause.
            let paused = Self.start("/paused", client, completions)
            try await Self.waitUntil("a request holding a slot") { client.gate.slotUsage.inFlight == 1 }
            try await Task.sleep(for: .milliseconds(100))
            backingOff.cancel()
            paused.cancel()
            let first = await Self.result(of: backingOff, before: .seconds(10))
            let second = await Self.result(of: paused, before: .seconds(10))
            #expect(Self.isCancellation(first), "\(String(describing: first))")
            #expect(Self.isCancellation(second), "\(String(describing: second))")
            #expect(server.requests.map(\.path) == ["/limited"])
            #expect(client.gate.slotUsage == (inFlight: 0, waiting: 0))
        }
    }
}
