import RetentionCore

/// The outcome of every operation of a write-back call and the row edits they add up to.
///
/// Operations are applied in order to a simulated copy of the targeted rows, so an erase followed by
/// a delete of the same id ends in a delete, and a second delete of an id is `.alreadyGone`.
struct CSVWritePlan {
    enum Edit {
        case delete
        /// New values by column index.
        case set([Int: String])
    }

    private(set) var outcomes: [OperationOutcome] = []
    /// Edits by id; only ids that occur on exactly one well-formed row.
    private(set) var edits: [String: Edit] = [:]
    /// How many rows carried each edited id during the planning pass.
    private(set) var expectedCounts: [String: Int] = [:]

    init(operations: [WriteOperation], targets: CSVTargetRows, layout: CSVLayout, encoding: CSVTextEncoding) {
        var current = targets.rows.mapValues(\.fields)
        var deleted = Set<String>()
        for operation in operations {
            let id = operation.recordID
            guard operation.kind == .delete || operation.kind == .eraseFields || operation.kind == .extend else {
                outcomes.append(.failed(CSVConnectorError.unsupported(operation.kind)))
                continue
            }
            guard let target = targets.rows[id], !deleted.contains(id) else {
                outcomes.append(.alreadyGone)
                continue
            }
            guard target.count == 1 else {
                outcomes.append(.failed(CSVConnectorError.ambiguousID))
                continue
            }
            guard !target.defective else {
                outcomes.append(.failed(CSVConnectorError.defectiveRow))
                continue
            }
            if operation.kind == .delete {
                deleted.insert(id)
                edits[id] = .delete
                expectedCounts[id] = 1
                outcomes.append(.applied(detail: "deleted"))
                continue
            }
            outcomes.append(
                write(operation, fields: &current[id, default: [:]], layout: layout, encoding: encoding))
        }
    }

    /// Applies an erase or extend to the simulated row; all its fields or none.
    private mutating func write(
        _ operation: WriteOperation, fields: inout [String: String], layout: CSVLayout, encoding: CSVTextEncoding
    ) -> OperationOutcome {
        var changes: [Int: String] = [:]
        for field in operation.fields {
            guard let index = layout.indexByCanonical[field.field] else {
                return .failed(CSVConnectorError.unknownField(field.field))
            }
            guard index != layout.idIndex else {
                return .failed(
                    CSVConnectorError(
                        code: "csv.key_field", message: "the id column '\(field.field)' cannot be changed",
                        isTransient: false))
            }
            guard encoding.encode(field.value) != nil else {
                return .failed(CSVConnectorError.unencodable(field.field, encoding: encoding.rawValue))
            }
            if (fields[field.field] ?? "") != field.value { changes[index] = field.value }
        }
        let verb = operation.kind == .extend ? "extended" : "erased"
        guard !changes.isEmpty else { return .applied(detail: "already \(verb)") }
        for field in operation.fields { fields[field.field] = field.value }
        var merged: [Int: String] = [:]
        if case .set(let earlier) = edits[operation.recordID] { merged = earlier }
        merged.merge(changes) { _, new in new }
        edits[operation.recordID] = .set(merged)
        expectedCounts[operation.recordID] = 1
        return .applied(detail: verb)
    }
}
