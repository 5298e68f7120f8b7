import RetentionCore

/// What the file holds for the ids a write-back call names, from one streaming pass.
struct CSVTargetRows {
    struct Row {
        /// Rows carrying the id (more than one makes the id ambiguous).
        var count = 0
        /// A row with this id is malformed.
        var defective = false
        /// The fields of the first well-formed row with this id.
        var fields: [String: String] = [:]
    }

    var rows: [String: Row] = [:]

    static func scan(_ document: CSVDocument, ids: Set<String>) throws(CSVConnectorError) -> CSVTargetRows {
        var result = CSVTargetRows()
        while let row = try document.nextRow() {
            guard let id = document.id(of: row), ids.contains(id), let record = document.record(of: row) else {
                continue
            }
            var entry = result.rows[id] ?? Row()
            if entry.count == 0 { entry.fields = record.fields }
            entry.count += 1
            if record.defect != nil { entry.defective = true }
            result.rows[id] = entry
        }
        return result
    }
}
