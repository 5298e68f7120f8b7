import Foundation

/// How the columns of a file map to canonical field names, from its header and the `columns` setting.
///
/// A mapped column takes its canonical name; every other column keeps its header name (trimmed).
/// When two columns would get the same canonical name, a mapped column wins over an unmapped one
/// and otherwise the first wins; the losing column is not part of the record.
struct CSVLayout {
    let columnCount: Int
    /// The canonical name of each column, nil for a column that lost its name to another.
    let canonicalNames: [String?]
    let indexByCanonical: [String: Int]
    let idIndex: Int

    init(header: [String], configuration: CSVConnectorConfiguration) throws(CSVConnectorError) {
        let path = configuration.path.path
        var names = [String?](repeating: nil, count: header.count)
        var indexByCanonical: [String: Int] = [:]
        for (canonical, column) in configuration.columns.sorted(by: { $0.key < $1.key }) {
            guard let index = header.firstIndex(of: column) else {
                throw .missingColumn(column, canonical: canonical, path: path)
            }
            guard names[index] == nil else {
                throw CSVConnectorError(
                    code: "csv.column_mapped_twice",
                    message: "the column '\(column)' of \(path) is configured for more than one field",
                    isTransient: false)
            }
            names[index] = canonical
            indexByCanonical[canonical] = index
        }
        let mappedColumns = Set(configuration.columns.values)
        for (index, column) in header.enumerated()
        where names[index] == nil && !mappedColumns.contains(column) && indexByCanonical[column] == nil {
            names[index] = column
            indexByCanonical[column] = index
        }
        guard let idIndex = indexByCanonical[configuration.idColumn] else {
            let column = configuration.columns[configuration.idColumn] ?? configuration.idColumn
            throw .missingColumn(column, canonical: configuration.idColumn, path: path)
        }
        self.columnCount = header.count
        self.canonicalNames = names
        self.indexByCanonical = indexByCanonical
        self.idIndex = idIndex
    }
}
