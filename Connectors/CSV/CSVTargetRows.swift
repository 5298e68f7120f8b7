import RetentionCore

/// What the file holds for the ids a write-back call names, from one streaming pass.
struct CSVTargetRows {
    struct Row {
        /// Rows carrying the id (more than one makes the id ambiguous).
        var count = 0
        /// A row with this id is malformed.
        var defective = false
        /// The fields of the first well-formed row with this id (only for ids whose fields are needed).
        var fields: [String: String] = [:]
    }

    var rows: [String: Row] = [:]

    /// `withFields`: the ids whose current values are needed (erasures and extensions compare them);
    /// a delete needs only the count and whether the row is well formed, so its fields are not kept.
    static func scan(_ document: CSVDocument, ids: Set<String>, withFields: Set<String>) throws(CSVConnectorError) -> CSVTargetRows {
        var result = CSVTargetRows()
        while let row = try document.nextRow() {
            guard let id = document.id(of: row), ids.contains(id) else { continue }
            var entry = result.rows[id] ?? Row()
            if withFields.contains(id) {
                guard let record = document.record(of: row) else { continue }
                if entry.count == 0 { entry.fields = record.fields }
                if record.defect != nil { entry.defective = true }
            } else {
                guard !row.isBlank else { continue }
                if document.isDefective(row) { entry.defective = true }
            }
            entry.count += 1
            result.rows[id] = entry
        }
        return result
    }
}
