import CSVConnector
import Foundation
import RetentionCore
import Testing

@Suite struct CSVParsingTests {
    @Test func quotedFieldsHoldDelimitersQuotesAndNewlines() async throws {
        let folder = try TemporaryFolder()
        let file = try folder.file(
            "c.csv", "id,name,memo\n1,\"Kim, Minjun\",\"say \"\"hi\"\"\"\n2,\"two\nlines\",\"\"\n3, spaced ,x\n")
        let records = try await pullAll(connector(file))
        #expect(records.map(\.id) == ["1", "2", "3"])
        #expect(records[0].fields == ["id": "1", "name": "Kim, Minjun", "memo": "say \"hi\""])
        #expect(records[1].fields["name"] == "two\nlines")
        #expect(records[1].fields["memo"] == "")
        #expect(records[2].fields["name"] == " spaced ", "values are raw, not trimmed")
        #expect(records.map(\.line) == [2, 3, 5])
        #expect(records.allSatisfy { $0.defect == nil })
    }

    @Test func bareLineFeedInsideQuotesOfACRLFFileIsData() async throws {
        let folder = try TemporaryFolder()
        let file = try folder.file("c.csv", "id,memo\r\n1,\"a\nb\"\r\n2,\"c\r\nd\"\r\n3,plain\r\n")
        let records = try await pullAll(connector(file))
        #expect(records.map(\.id) == ["1", "2", "3"])
        #expect(records.map { $0.fields["memo"] } == ["a\nb", "c\r\nd", "plain"])
        #expect(records.map(\.line) == [2, 4, 6])
    }

    @Test func blankLinesAreSkippedButCountedAndAFinalLineNeedsNoNewline() async throws {
        let folder = try TemporaryFolder()
        let file = try folder.file("c.csv", "\nid,name\r\n\r\n1,a\n\n\n2,b\r\n3,c")
        let records = try await pullAll(connector(file))
        #expect(records.map(\.id) == ["1", "2", "3"])
        #expect(records.map(\.line) == [4, 7, 8])
        #expect(records.map { $0.fields["name"] } == ["a", "b", "c"])
    }

    @Test func idIsTrimmedAndFieldsUseCanonicalNames() async throws {
        let folder = try TemporaryFolder()
        let file = try folder.file("c.csv", "Customer No,E-mail,Note\n  7 ,x@example.com,n\n")
        let source = connector(file, columns: ["customer": "Customer No", "email": "E-mail"], idColumn: "customer")
        let records = try await pullAll(source)
        #expect(records.count == 1)
        #expect(records[0].id == "7")
        #expect(records[0].fields == ["customer": "  7 ", "email": "x@example.com", "Note": "n"])
    }

    @Test func otherDelimiters() async throws {
        let folder = try TemporaryFolder()
        let file = try folder.file("c.csv", "id;name\n1;\"a;b\"\n")
        let records = try await pullAll(connector(file, delimiter: ";"))
        #expect(records.first?.fields["name"] == "a;b")
        let tabs = try folder.file("t.tsv", "id\tname\n1\ta,b\n")
        #expect(try await pullAll(connector(tabs, delimiter: "\t")).first?.fields["name"] == "a,b")
        let bad = connector(file, delimiter: "\"")
        #expect(await csvError { try await bad.check() }?.code == "csv.bad_delimiter")
    }

    @Test func wrongFieldCountsBecomeDefects() async throws {
        let folder = try TemporaryFolder()
        let file = try folder.file("c.csv", "id,name,email\n1,Secret Name\n2,a,b@example.com\n3,x,y,Secret Extra\n\n4,\"quoted\",z\n")
        let records = try await pullAll(connector(file))
        #expect(records.map(\.id) == ["1", "2", "3", "4"])
        #expect(records.map(\.line) == [2, 3, 4, 6])
        #expect(records[0].defect == "expected 3 fields, found 2")
        #expect(records[1].defect == nil)
        #expect(records[2].defect == "expected 3 fields, found 4")
        for record in records where record.defect != nil {
            #expect(record.fields.isEmpty)
            #expect(!(record.defect ?? "").contains("Secret"))
        }
    }

    /// One stray quote would swallow every later row: the file is refused with the line where the
    /// field opens, by the pull, the re-read and the writer alike, and the file is left untouched.
    @Test func aQuotedFieldThatNeverClosesRefusesTheFileWithItsLine() async throws {
        let folder = try TemporaryFolder()
        let text = "id,name,email\n1,a,a@example.com\n2,\"Secret open quote,b@example.com\n3,c,c@example.com\n"
        let file = try folder.file("c.csv", text)
        let source = connector(file)
        let pulled = await csvError { _ = try await pullAll(source) }
        #expect(pulled?.code == "csv.unterminated_quote")
        #expect(pulled?.message.contains("line 3") == true)
        #expect(pulled?.message.contains("Secret") == false)
        #expect(await csvError { _ = try await source.read(ids: ["1"]) }?.code == "csv.unterminated_quote")
        #expect(await csvError { _ = try await source.apply([WriteOperation(id: "o", kind: .delete, recordID: "1")]) }?.code == "csv.unterminated_quote")
        #expect(try String(contentsOf: file, encoding: .utf8) == text)
    }

    @Test func aHeaderIsStillReadWhenALaterIdIsUnreadable() async throws {
        let folder = try TemporaryFolder()
        let file = try folder.file("c.csv", "name,id\nonly\n")
        let records = try await pullAll(connector(file))
        #expect(records.map(\.id) == [""])
        #expect(records.map(\.line) == [2])
        #expect(records.allSatisfy { $0.defect != nil })
    }

    @Test func pullYieldsBatchesOfAtMostTheBatchSize() async throws {
        let folder = try TemporaryFolder()
        let rows = (1...25).map { "\($0),n\($0)\n" }.joined()
        let file = try folder.file("c.csv", "id,name\n" + rows)
        let source = CSVConnector(configuration: CSVConnectorConfiguration(path: file), batchSize: 10)
        var sizes: [Int] = []
        for try await batch in source.pull(PullRequest()) { sizes.append(batch.records.count) }
        #expect(sizes == [10, 10, 5])
    }

    @Test func readReturnsEveryOccurrenceOfTheIDs() async throws {
        let folder = try TemporaryFolder()
        let file = try folder.file("c.csv", "id,name\n1,a\n2,b\n1,c\n3,d\n")
        let records = try await connector(file).read(ids: ["1", "3", "9"])
        #expect(records.map(\.id) == ["1", "1", "3"])
        #expect(records.map { $0.fields["name"] } == ["a", "c", "d"])
        #expect(try await connector(file).read(ids: []).isEmpty)
    }

    @Test func readOfNamedFieldsDecodesOnlyThoseAndKeepsDefects() async throws {
        let folder = try TemporaryFolder()
        let file = try folder.file("c.csv", "id,name,created,email\n1,a,2020-01-01,a@x.kr\n2,b\n3,c,2021-05-05,c@x.kr\n")
        let records = try await connector(file).read(ids: ["1", "2", "3"], fields: ["created", "absent"])
        #expect(records.map(\.id) == ["1", "2", "3"])
        #expect(records[0].fields == ["id": "1", "created": "2020-01-01"], "the id's column and the named ones, nothing else")
        #expect(records[0].line == 2)
        #expect(records[1].fields.isEmpty)
        #expect(records[1].defect != nil, "a malformed row stays malformed, as in a whole read")
        #expect(records[2].fields["email"] == nil)
        let whole = try await connector(file).read(ids: ["3"])
        #expect(whole.first?.fields["email"] == "c@x.kr")
    }

    @Test func checkReportsMissingFilesHeadersAndColumns() async throws {
        let folder = try TemporaryFolder()
        let missing = folder.url.appendingPathComponent("absent.csv")
        let error = await csvError { try await connector(missing).check() }
        #expect(error?.code == "csv.file_missing")
        #expect(error?.isTransient == false)
        #expect(error?.message.contains(missing.path) == true)
        let pullError = await csvError { _ = try await pullAll(connector(missing)) }
        #expect(pullError?.code == "csv.file_missing")

        let empty = try folder.file("empty.csv", "\n\n")
        #expect(await csvError { try await connector(empty).check() }?.code == "csv.no_header")
        let noID = try folder.file("noid.csv", "name,email\na,b\n")
        #expect(await csvError { try await connector(noID).check() }?.code == "csv.missing_column")
        let unmapped = connector(noID, columns: ["phone": "Phone"], idColumn: "name")
        #expect(await csvError { try await unmapped.check() }?.code == "csv.missing_column")
        let brokenHeader = try folder.file("broken.csv", "id,\"name\n")
        #expect(await csvError { try await connector(brokenHeader).check() }?.code == "csv.malformed_header")
        try await connector(noID, idColumn: "name").check()
    }
}
