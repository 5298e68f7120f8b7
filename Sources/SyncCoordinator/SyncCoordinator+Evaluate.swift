import Foundation
import RetentionCore
import RetentionStore

extension SyncCoordinator {
    /// Each destructive operation (delete, archive, erasure) whose id is already done is given the
    /// id of its next round not done yet: the same decision taken again after it was carried out (a
    /// record restored after its deletion, erased fields that hold values again) is enforced again.
    func nextRounds(_ operations: [OutboxOperation]) async throws -> [OutboxOperation] {
        var result = operations
        var open = result.indices.filter { [.delete, .archive, .eraseFields].contains(result[$0].kind) && result[$0].recordID != nil }
        var round = 0
        while !open.isEmpty, round < 64 {
            let statuses = try await store.operationStatuses(open.map { result[$0].id })
            open = open.filter { statuses[result[$0].id] == .done }
            round += 1
            for index in open {
                let operation = result[index]
                result[index].id = store.operationIDs.make(
                    connector: operation.connector, recordID: operation.recordID ?? "",
                    operation: PlannedOperation(kind: operation.kind, rule: operation.rule, cycle: operation.cycle, fields: operation.fields), round: round)
            }
        }
        return result
    }
}
