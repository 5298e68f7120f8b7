public import Foundation
public import RetentionCore

/// A clock a test moves by hand (for retry times and backoffs), thread-safe.
public final class SettableClock: LetheClock, @unchecked Sendable {
    private let lock = NSLock()
    private var instant: Date

    public init(_ instant: Date) { self.instant = instant }

    public func now() -> Date { lock.withLock { instant } }

    public func advance(by seconds: TimeInterval) {
        lock.withLock { instant = instant.addingTimeInterval(seconds) }
    }
}
