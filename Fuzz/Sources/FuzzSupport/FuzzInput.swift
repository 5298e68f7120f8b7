import Foundation

/// The bytes libFuzzer hands a target, read front to back: a few option bytes, then the payload.
public struct FuzzInput {
    public private(set) var bytes: ArraySlice<UInt8>

    public init(_ start: UnsafePointer<UInt8>?, _ count: Int) {
        guard let start, count > 0 else {
            bytes = []
            return
        }
        bytes = ArraySlice(UnsafeBufferPointer(start: start, count: count))
    }

    /// The next byte, 0 once the input is used up (so short inputs still pick the first options).
    public mutating func byte() -> UInt8 {
        bytes.popFirst() ?? 0
    }

    /// One of `choices`, picked by the next byte.
    public mutating func pick<T>(_ choices: [T]) -> T {
        choices[Int(byte()) % choices.count]
    }

    /// Everything not read yet.
    public mutating func rest() -> [UInt8] {
        defer { bytes = [] }
        return Array(bytes)
    }
}

/// Stops the fuzzer with `message` when an expectation about the code under test fails: libFuzzer
/// records the input as a crash.
public func expect(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
    if !condition() {
        fatalError("fuzz expectation failed: \(message())")
    }
}
