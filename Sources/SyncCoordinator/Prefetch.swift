import Foundation

/// Runs an async sequence ahead of its consumer on a task of its own, at most `capacity` elements
/// ahead: reading the source overlaps with evaluating and writing what was read.
struct Prefetched<Element: Sendable>: AsyncSequence, Sendable {
    let base: AsyncThrowingStream<Element, any Error>
    let capacity: Int

    func makeAsyncIterator() -> Iterator {
        let buffer = Buffer(capacity: capacity)
        let producer = Task {
            do {
                for try await element in base { try await buffer.put(element) }
                await buffer.finish(nil)
            } catch {
                await buffer.finish(error)
            }
        }
        return Iterator(buffer: buffer, producer: producer)
    }

    struct Iterator: AsyncIteratorProtocol {
        let buffer: Buffer
        let producer: Task<Void, Never>

        mutating func next() async throws -> Element? {
            try await withTaskCancellationHandler {
                try await buffer.take()
            } onCancel: { [producer] in
                producer.cancel()
            }
        }
    }

    actor Buffer {
        private var elements: [Element] = []
        private var ended = false
        private var failure: (any Error)?
        private var waitingTaker: CheckedContinuation<Void, Never>?
        private var waitingPutter: CheckedContinuation<Void, Never>?
        let capacity: Int

        init(capacity: Int) { self.capacity = Swift.max(1, capacity) }

        func put(_ element: Element) async throws {
            while elements.count >= capacity, !ended {
                await withCheckedContinuation { waitingPutter = $0 }
                try Task.checkCancellation()
            }
            elements.append(element)
            waitingTaker?.resume()
            waitingTaker = nil
        }

        func finish(_ error: (any Error)?) {
            ended = true
            failure = error
            waitingTaker?.resume()
            waitingTaker = nil
        }

        func take() async throws -> Element? {
            while elements.isEmpty, !ended {
                await withCheckedContinuation { waitingTaker = $0 }
            }
            if !elements.isEmpty {
                let element = elements.removeFirst()
                waitingPutter?.resume()
                waitingPutter = nil
                return element
            }
            if let failure { throw failure }
            return nil
        }
    }
}
