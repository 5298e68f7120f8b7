import RetentionCore

/// What the file holds for the ids a write-back call names, from one streaming pass.
struct CSVTargetRows {
    struct Row {
        /// Rows carrying the id (more than one makes the id ambiguous).
        var count = 0
        /// A row with this id is malformed.
        var defective = false
        /// The needed fields of the first well-formed row with this id (only for ids whose fields are needed).
        var fields: [String: String] = [:]
    }

    var rows: [String: Row] = [:]

    /// `withFields`: the ids whose current values are needed, and of which fields (erasures and
    /// extensions compare them); only those are decoded and kept. A delete needs only the count and
    /// whether the row is well formed.
    static func scan(_ document: CSVDocument, ids: Set<String>, withFields: [String: Set<String>]) throws(CSVConnectorError) -> CSVTargetRows {
        var result = CSVTargetRows()
        while let row = try document.nextRow() {
            guard let id = document.id(of: row), ids.contains(id) else { continue }
            var entry = result.rows[id] ?? Row()
            guard !row.isBlank else { continue }
            if document.isDefective(row) {
                entry.defective = true
            } else if entry.count == 0, let names = withFields[id] {
                entry.fields = document.values(of: row, names: names)
            }
            entry.count += 1
            result.rows[id] = entry
        }
        return result
    }
}
