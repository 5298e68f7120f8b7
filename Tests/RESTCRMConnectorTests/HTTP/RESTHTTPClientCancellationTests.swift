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

    @Test(.timeLimit(.minutes(2)))
    func cancelledSlotWaiterEndsBeforeTheHolderAndTakesNoSlot() async throws {
        // The scenario needs the waiter queued while the held request is in flight (6 s). On a machine
        // so loaded that the held answer comes before the waiter is even queued, nothing is shown
        // either way: the scenario runs again, up to three times, and only then is that a failure.
        for _ in 1...3 where try await slotWaiterScenario() { return }
        Issue.record("in three attempts the held request ended before the waiter was queued: the machine is too loaded to show the ordering")
    }

    /// One run of the scenario; false when its precondition did not hold (nothing asserted then).
    private func slotWaiterScenario() async throws -> Bool {
        var shown = false
        try await withServer({ request, _ in
            var response = ScriptedResponse.json(200, "{}")
            // Long enough that a loaded machine (CI builds on 2 cores) cannot let it end before the cancel.
            if request.path == "/held" { response.delay = .seconds(6) }
            return response
        }, manifest: { base in
            manifestNode(["baseURL": .scalar(base), "rateLimit": ["maxConcurrent": "1"]])
        }) { server, client, _ in
            let completions = Completions()
            let held = Self.start("/held", client, completions)
            // The held request has reached the server: it owns the only slot for 6 s.
            try await Self.waitUntil("the held request to reach the server") { !server.requests.isEmpty }
            let waiting = Self.start("/waiting", client, completions)
            try await Self.waitUntil("a request waiting for the slot (usage then: \(client.gate.slotUsage), ended: \(completions.order))") {
                client.gate.slotUsage.waiting == 1 || completions.order.contains("/held")
            }
            guard !completions.order.contains("/held") else {
                _ = try? await waiting.value
                return
            }
            shown = true
            try await Task.sleep(for: .milliseconds(100))
            waiting.cancel()
            let cancelled = await waiting.result
            #expect(Self.isCancellation(cancelled), "\(cancelled)")
            // The strict ordering: the waiter ended while the held request still owned its slot
            // (a waiter that ignored cancellation could only end after that slot was given back),
            // and it left the queue, so it cannot take the slot later.
            #expect(client.gate.slotUsage == (inFlight: 1, waiting: 0), "the cancelled waiter ended first and left the queue")
            #expect(server.requests.map(\.path) == ["/held"])

            // A third request afterwards queues behind the held one and gets the slot the
            // cancelled waiter would have taken.
            let after = Self.start("/after", client, completions)
            #expect(try await held.value == 200)
            #expect(try await after.value == 200)
            #expect(completions.order.first == "/waiting" && completions.order.count == 3)
            #expect(server.requests.map(\.path) == ["/held", "/after"], "the cancelled request was never sent")
            // The third request got the slot only once the held answer (delayed 6 s) was in. (Task
            // ends of the two are no order: the handed-over slot may let it finish first.)
            let arrivals = server.requests.map(\.arrival)
            #expect(arrivals[1] - arrivals[0] >= .seconds(6))
            #expect(client.gate.slotUsage == (inFlight: 0, waiting: 0), "every slot was given back")
            #expect(client.statistics.requests == 2)
        }
        return shown
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
