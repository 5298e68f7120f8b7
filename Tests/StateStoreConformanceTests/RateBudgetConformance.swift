import Foundation
import RetentionCore
import RetentionStore
import Testing

extension StoreConformance {
    /// `SharedRateBudget`: with 5 requests per second, one start at an instant and then a wait of the
    /// emission interval (200 ms); two store objects on the same state share one budget, also when they
    /// ask at once; at most 5 starts in any window of a second; accounts are independent; a TAT from a
    /// clock that was set back is forgotten.
    static func checkRateBudget(_ fixture: any StoreFixture) async throws {
        let store = fixture.store
        let at = Self.at
        func close(_ wait: Duration, _ expected: Duration) -> Bool {
            abs(RateCell.seconds(wait) - RateCell.seconds(expected)) < 0.001
        }
        func ask(_ budget: any SharedRateBudget, _ account: String = "crm.test#a", after seconds: Double) async throws -> Duration {
            try await budget.reserve(account: account, requests: 5, per: .seconds(1), at: at.addingTimeInterval(seconds))
        }

        #expect(try await ask(store, after: 0) == .zero)
        let first = try await ask(store, after: 0)
        #expect(close(first, .milliseconds(200)), "the next start is one emission interval later: \(first)")
        #expect(close(try await ask(store, after: 0.15), .milliseconds(50)), "a refused ask counts nothing")
        #expect(try await ask(store, "crm.test#b", after: 0.15) == .zero, "another account has its own budget")
        #expect(try await ask(store, after: 0.2) == .zero)

        // A second store object on the same state sees the first one's start, and the other way round.
        let other = try await fixture.reopen()
        #expect(close(try await ask(other, after: 0.3), .milliseconds(100)))
        #expect(try await ask(other, after: 0.4) == .zero)
        #expect(close(try await ask(store, after: 0.4), .milliseconds(200)))

        // Both asking at once, many times, at one instant: exactly one start between them.
        let results = try await withThrowingTaskGroup(of: Duration.self) { group in
            for index in 0..<20 {
                let budget: any SharedRateBudget = index.isMultiple(of: 2) ? store : other
                group.addTask { try await ask(budget, "crm.test#race", after: 0) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.filter { $0 == .zero }.count == 1)
        #expect(results.filter { $0 != .zero }.allSatisfy { close($0, .milliseconds(200)) })

        // Both asking every 50 ms for 3 seconds: at most 5 starts in any window of a second, and the
        // budget is used (starts 200 ms apart).
        var starts: [Double] = []
        for step in 0...60 {
            let seconds = Double(step) * 0.05
            for budget in [store, other] as [any SharedRateBudget] where try await ask(budget, "crm.test#window", after: seconds) == .zero {
                starts.append(seconds)
            }
        }
        for start in starts {
            #expect(starts.filter { $0 >= start && $0 < start + 0.999 }.count <= 5, "window from \(start)")
        }
        #expect(starts.count == 16, "one start every 200 ms from 0 to 3 s: \(starts)")

        // A TAT far beyond one window (a clock that was set back since) does not block for long.
        #expect(try await ask(store, "crm.test#clock", after: 3_600) == .zero)
        #expect(try await ask(other, "crm.test#clock", after: 0) == .zero)
        #expect(close(try await ask(store, "crm.test#clock", after: 0), .milliseconds(200)))
        await release(other)
    }
}
