import Crypto
import Foundation
public import RetentionCore

/// Deterministic operation ids: the same (connector, record, rule, kind, cycle) always gives the same
/// id, so a decision taken twice queues once. The id reveals nothing about the record.
public enum OperationIdentifier {
    public static func make(connector: String, recordID: String, operation: PlannedOperation) -> String {
        let digest = SHA256.hash(data: Data(operation.identity(connector: connector, recordID: recordID).utf8))
        return "op-" + digest.prefix(12).hexString
    }
}
