public import RetentionCore

/// A notice sink that keeps what it is given, for assertions.
///
/// Idempotent per `operationID`: delivering an id again returns the first receipt and records
/// nothing new (`deliverCalls` still counts the call). Receipts (`notice-1`, …) carry no personal
/// data. `failNextDeliveries` makes the next calls throw before anything is recorded.
public actor RecordingNoticeSink: NoticeSink {
    /// Distinct notices, in first-delivery order.
    public private(set) var delivered: [Notice] = []
    public private(set) var deliverCalls = 0
    private var receipts: [String: String] = [:]
    private var failures: (remaining: Int, error: ConnectorError)?

    public init() {}

    public func failNextDeliveries(_ count: Int, with error: ConnectorError) {
        failures = count > 0 ? (count, error) : nil
    }

    /// The notices sent to one recipient.
    public func notices(to recipient: String) -> [Notice] {
        delivered.filter { $0.recipient == recipient }
    }

    public func deliver(_ notice: Notice) async throws -> String {
        deliverCalls += 1
        if let failure = failures {
            failures = failure.remaining > 1 ? (failure.remaining - 1, failure.error) : nil
            throw failure.error
        }
        if let receipt = receipts[notice.operationID] { return receipt }
        delivered.append(notice)
        let receipt = "notice-\(delivered.count)"
        receipts[notice.operationID] = receipt
        return receipt
    }
}
