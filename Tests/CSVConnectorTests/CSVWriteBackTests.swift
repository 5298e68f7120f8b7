import CSVConnector
import Foundation
import RetentionCore
import Testing

@Suite struct CSVWriteBackTests {
    /// Quoting styles, spaces, mixed line endings, a blank line and a malformed row: everything not
    /// edited must come back byte for byte.
    static let original =
        "id,name,email,memo\r\n1,\"Kim, Minjun\",kim@example.com, spaced \r\n2,\"Lee\",lee@example.com,\"a\nb\"\n\r\n"
        + "3,Park,park@example.com,\"\"\"quoted\"\"\"\r\n4,broken row\r\n5,Choi,choi@example.com,last"

    @Test func deleteAndEraseKeepEveryOtherByte() async throws {
        let folder = try TemporaryFolder()
        let file = try folder.file("c.csv", Self.original)
        let outcomes = try await connector(file).apply([delete("2"), erase("3", ["email": ""])])
        #expect(names(outcomes) == ["applied", "applied"])
        let expected =
            "id,name,email,memo\r\n1,\"Kim, Minjun\",kim@example.com, spaced \r\n\r\n"
            + "3,Park,,\"\"\"quoted\"\"\"\r\n4,broken row\r\n5,Choi,choi@example.com,last"
        #expect(try bytes(of: file) == Array(expected.utf8))
        #expect(try folder.names() == ["c.csv"], "no temporary file is left behind")
    }

    @Test func newValuesAreQuotedOnlyWhenNeeded() async throws {
        let folder = try TemporaryFolder()
        let file = try folder.file("c.csv", "id,a,b,c\n1,x,y,z\n")
        let extend = WriteOperation(
            id: "op-extend", kind: .extend, recordID: "1",
            fields: [
                ErasedField(field: "a", value: "p,q"), ErasedField(field: "b", value: "say \"hi\""),
                ErasedField(field: "c", value: "2026-01-01"),
            ])
        let outcomes = try await connector(file).apply([extend])
        #expect(names(outcomes) == ["applied"])
        #expect(try bytes(of: file) == Array("id,a,b,c\n1,\"p,q\",\"say \"\"hi\"\"\",2026-01-01\n".utf8))
        let records = try await pullAll(connector(file))
        #expect(records.first?.fields == ["id": "1", "a": "p,q", "b": "say \"hi\"", "c": "2026-01-01"])
    }

    @Test func erasingMappedFieldsWritesTheirColumns() async throws {
        let folder = try TemporaryFolder()
        let file = try folder.file("c.csv", "No,Mail,Interests\n1,a@example.com,golf\n")
        let source = connector(file, columns: ["id": "No", "email": "Mail"])
        let outcomes = try await source.apply([erase("1", ["email": "", "Interests": ""])])
        #expect(names(outcomes) == ["applied"])
        #expect(try bytes(of: file) == Array("No,Mail,Interests\n1,,\n".utf8))
    }

    @Test func byteOrderMarkAndCRLFAreKept() async throws {
        let folder = try TemporaryFolder()
        let text = "\u{FEFF}\"id\",name\r\n1,a\r\n2,b\r\n"
        let file = try folder.file("c.csv", text)
        let records = try await pullAll(connector(file))
        #expect(records.map(\.id) == ["1", "2"], "the mark is not part of the first header name")
        #expect(
            names(try await connector(file).apply([erase("1", ["name": ""]), delete("2")])) == ["applied", "applied"])
        #expect(try bytes(of: file) == [0xEF, 0xBB, 0xBF] + Array("\"id\",name\r\n1,\r\n".utf8))
    }

    @Test func missingIDsAreAlreadyGoneAndLeaveTheFileAlone() async throws {
        let folder = try TemporaryFolder()
        let file = try folder.file("c.csv", "id,name\n1,a\n")
        let before = try inode(file)
        let outcomes = try await connector(file).apply([delete("9"), erase("8", ["name": ""])])
        #expect(names(outcomes) == ["alreadyGone", "alreadyGone"])
        #expect(try inode(file) == before, "nothing to do: the file is not rewritten")
        #expect(try bytes(of: file) == Array("id,name\n1,a\n".utf8))
    }

    @Test func erasingWhatIsErasedIsAppliedWithoutARewrite() async throws {
        let folder = try TemporaryFolder()
        let file = try folder.file("c.csv", "id,name,email\n1,a,\n")
        let before = try inode(file)
        let outcomes = try await connector(file).apply([erase("1", ["email": ""])])
        #expect(names(outcomes) == ["applied"])
        #expect(try inode(file) == before)
        let changed = try await connector(file).apply([erase("1", ["name": ""])])
        #expect(names(changed) == ["applied"])
        #expect(try inode(file) != before, "a change replaces the file by rename")
    }

    @Test func ambiguousIDsFailAndStayUntouched() async throws {
        let folder = try TemporaryFolder()
        let text = "id,name\n1,a\n2,b\n1,c\n"
        let file = try folder.file("c.csv", text)
        let outcomes = try await connector(file).apply([delete("1"), erase("1", ["name": ""]), delete("2")])
        #expect(names(outcomes) == ["failed(csv.ambiguous_id)", "failed(csv.ambiguous_id)", "applied"])
        #expect(failure(outcomes[0])?.isTransient == false)
        #expect(try bytes(of: file) == Array("id,name\n1,a\n1,c\n".utf8))
    }

    @Test func unknownFieldsUnsupportedKindsAndDefectiveRowsFail() async throws {
        let folder = try TemporaryFolder()
        let text = "id,name\n1,a\n2\n"
        let file = try folder.file("c.csv", text)
        let notify = WriteOperation(id: "n", kind: .notify, recordID: "1")
        let outcomes = try await connector(file).apply([
            erase("1", ["nickname": ""]), notify, erase("1", ["id": "x"]), delete("2"),
        ])
        #expect(
            names(outcomes) == [
                "failed(csv.unknown_field)", "failed(csv.unsupported)", "failed(csv.key_field)",
                "failed(csv.defective_row)",
            ])
        #expect(outcomes.allSatisfy { failure($0)?.isTransient == false })
        #expect(try bytes(of: file) == Array(text.utf8))
    }

    @Test func operationsApplyInOrderWithinOneCall() async throws {
        let folder = try TemporaryFolder()
        let file = try folder.file("c.csv", "id,name,email\n1,a,a@example.com\n2,b,b@example.com\n")
        let outcomes = try await connector(file).apply([
            erase("1", ["name": ""]), delete("1"), delete("1"), erase("2", ["email": ""]), erase("2", ["email": ""]),
        ])
        #expect(names(outcomes) == ["applied", "applied", "alreadyGone", "applied", "applied"])
        if case .applied(let detail) = outcomes[4] { #expect(detail == "already erased") }
        #expect(try bytes(of: file) == Array("id,name,email\n2,b,\n".utf8))
    }

    @Test func deletingTheLastRowWithoutNewline() async throws {
        let folder = try TemporaryFolder()
        let file = try folder.file("c.csv", "id,name\n1,a\n2,b")
        #expect(names(try await connector(file).apply([delete("2")])) == ["applied"])
        #expect(try bytes(of: file) == Array("id,name\n1,a\n".utf8))
    }

    @Test func aMissingFileIsAPermanentError() async throws {
        let folder = try TemporaryFolder()
        let missing = folder.url.appendingPathComponent("gone.csv")
        let error = await csvError { _ = try await connector(missing).apply([delete("1")]) }
        #expect(error?.code == "csv.file_missing")
        #expect(error?.isTransient == false)
        #expect(try folder.names().isEmpty)
    }

    @Test func permissionsAreKept() async throws {
        let folder = try TemporaryFolder()
        let file = try folder.file("c.csv", "id,name\n1,a\n2,b\n")
        try FileManager.default.setAttributes([.posixPermissions: 0o640], ofItemAtPath: file.path)
        _ = try await connector(file).apply([delete("1")])
        let attributes = try FileManager.default.attributesOfItem(atPath: file.path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o640)
    }

    @Test func writeBackLogsCountsOnly() async throws {
        let folder = try TemporaryFolder()
        let file = try folder.file("c.csv", "id,name\nsecret-id-1,Secret Person\nsecret-id-2,Other Person\n")
        let log = LogRecorder()
        _ = try await connector(file, log: log).apply([delete("secret-id-1"), erase("secret-id-2", ["name": ""])])
        _ = try await pullAll(connector(file, log: log))
        #expect(!log.entries.isEmpty)
        #expect(log.entries.allSatisfy { !$0.contains("secret") && !$0.contains("Person") })
    }
}
