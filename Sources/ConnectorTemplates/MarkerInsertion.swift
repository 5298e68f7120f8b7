/// Inserts lines into a file's text just above a marker comment (`// new-connector: targets`),
/// indented like the marker, so repeated insertions keep their order.
public struct MarkerInsertion: Sendable, Equatable {
    /// The marker's text without the leading `//`, for example `new-connector: targets`.
    public var marker: String
    public var lines: [String]

    public init(marker: String, lines: [String]) {
        self.marker = marker
        self.lines = lines
    }

    /// The marker as it appears in the file.
    public var comment: String { "// \(marker)" }

    /// `text` with the lines inserted. Throws when the marker is not on a line of its own exactly
    /// once; `file` names the file in the error.
    public func apply(to text: String, file: String) throws(ScaffoldError) -> String {
        var fileLines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let positions = fileLines.indices.filter { Self.trimmed(fileLines[$0]) == comment }
        guard let position = positions.first else {
            throw ScaffoldError(
                code: "scaffold.marker_missing",
                message: "\(file) has no '\(comment)' line: put it on a line of its own where the new lines belong")
        }
        guard positions.count == 1 else {
            throw ScaffoldError(
                code: "scaffold.marker_repeated",
                message: "\(file) has \(positions.count) '\(comment)' lines: keep exactly one")
        }
        let indentation = String(fileLines[position].prefix { $0 == " " || $0 == "\t" })
        fileLines.insert(contentsOf: lines.map { indentation + $0 }, at: position)
        return fileLines.joined(separator: "\n")
    }

    static func trimmed(_ line: String) -> Substring {
        let start = line.firstIndex { $0 != " " && $0 != "\t" } ?? line.endIndex
        let end = line.lastIndex { $0 != " " && $0 != "\t" && $0 != "\r" }.map { line.index(after: $0) } ?? start
        return line[start..<max(start, end)]
    }
}
