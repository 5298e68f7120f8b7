/// What a scaffolded connector does: a source Lethe reads and writes back to (`RecordSource` and
/// `RecordWriter`), or a sink notices are delivered to (`NoticeSink`).
public enum ConnectorKind: String, CaseIterable, Sendable {
    case source
    case sink

    /// The kind named on the command line.
    public init(argument: String) throws(ScaffoldError) {
        guard let kind = ConnectorKind(rawValue: argument) else {
            let choices = ConnectorKind.allCases.map(\.rawValue).joined(separator: ", ")
            throw ScaffoldError(code: "scaffold.bad_kind", message: "unknown kind '\(argument)'; one of: \(choices)")
        }
        self = kind
    }

    /// The suffix of the target and of the conforming type.
    var suffix: String {
        switch self {
        case .source: "Connector"
        case .sink: "Sink"
        }
    }
}
