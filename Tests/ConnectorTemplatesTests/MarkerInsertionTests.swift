import ConnectorTemplates
import Testing

@Suite struct MarkerInsertionTests {
    @Test func insertsAboveTheMarkerWithItsIndentation() throws {
        let text = "let list = [\n    .a,\n    // new-connector: factories\n]\n"
        let insertion = MarkerInsertion(marker: "new-connector: factories", lines: [".b,"])
        let once = try insertion.apply(to: text, file: "List.swift")
        #expect(once == "let list = [\n    .a,\n    .b,\n    // new-connector: factories\n]\n")
        let twice = try MarkerInsertion(marker: "new-connector: factories", lines: [".c,"]).apply(to: once, file: "List.swift")
        #expect(twice == "let list = [\n    .a,\n    .b,\n    .c,\n    // new-connector: factories\n]\n")
    }

    @Test func aMissingMarkerIsAClearError() {
        let insertion = MarkerInsertion(marker: "new-connector: targets", lines: ["x"])
        #expect(
            throws: ScaffoldError(
                code: "scaffold.marker_missing",
                message: "Package.swift has no '// new-connector: targets' line: put it on a line of its own where the new lines belong")
        ) {
            try insertion.apply(to: "let x = 1 // new-connector: targets\n", file: "Package.swift")
        }
    }

    @Test func aRepeatedMarkerIsAnError() {
        let insertion = MarkerInsertion(marker: "new-connector: tests", lines: ["x"])
        let text = "// new-connector: tests\n  // new-connector: tests\n"
        #expect(throws: ScaffoldError(code: "scaffold.marker_repeated", message: "Package.swift has 2 '// new-connector: tests' lines: keep exactly one")) {
            try insertion.apply(to: text, file: "Package.swift")
        }
    }
}
