import Foundation
import RetentionCore
import Testing

@testable import CSVConnector

@Suite struct CSVRewriterTests {
    /// Someone edits the file between the planning pass and the rename: nothing is replaced, the
    /// failure is transient, and no temporary file is left.
    @Test func aFileChangedDuringTheRewriteIsLeftAlone() throws {
        let folder = try TemporaryFolder()
        let file = try folder.file("c.csv", "id,name\n1,a\n2,b\n")
        let configuration = CSVConnectorConfiguration(path: file)
        let before = try CSVFileSystem.identity(of: file.path)
        let document = try CSVDocument(configuration)
        let targets = try CSVTargetRows.scan(document, ids: ["1"], withFields: [:])
        let plan = CSVWritePlan(
            operations: [delete("1")], targets: targets, layout: document.layout, encoding: document.encoding)
        #expect(plan.edits.count == 1)

        let handle = try FileHandle(forWritingTo: file)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("3,c\n".utf8))
        try handle.close()

        let rewriter = CSVRewriter(configuration: configuration, encoding: .utf8, plan: plan, original: before)
        #expect(throws: CSVConnectorError.changedDuringWrite(file.path)) { try rewriter.run() }
        #expect(CSVConnectorError.changedDuringWrite(file.path).isTransient)
        #expect(try bytes(of: file) == Array("id,name\n1,a\n2,b\n3,c\n".utf8))
        #expect(try folder.names() == ["c.csv"])
    }

    @Test func anIDThatMultipliedSinceThePlanIsNotRewritten() throws {
        let folder = try TemporaryFolder()
        let file = try folder.file("c.csv", "id,name\n1,a\n2,b\n")
        let configuration = CSVConnectorConfiguration(path: file)
        let document = try CSVDocument(configuration)
        let plan = CSVWritePlan(
            operations: [delete("1")], targets: try CSVTargetRows.scan(document, ids: ["1"], withFields: [:]),
            layout: document.layout, encoding: document.encoding)
        try Data("id,name\n1,a\n1,b\n".utf8).write(to: file)
        let now = try CSVFileSystem.identity(of: file.path)
        let rewriter = CSVRewriter(configuration: configuration, encoding: .utf8, plan: plan, original: now)
        #expect(throws: CSVConnectorError.changedDuringWrite(file.path)) { try rewriter.run() }
        #expect(try bytes(of: file) == Array("id,name\n1,a\n1,b\n".utf8))
        #expect(try folder.names() == ["c.csv"])
    }
}
