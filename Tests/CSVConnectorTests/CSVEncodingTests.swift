import CSVConnector
import Foundation
import RetentionCore
import Testing

@Suite struct CSVEncodingTests {
    static let koreanText = "id,name,memo\r\n1,김민준,\"똠얌꿍, \"\"매운\"\" 맛\"\r\n2,이서연,hello\r\n"

    @Test func cp949FilesReadAndRoundTripInCP949() async throws {
        let folder = try TemporaryFolder()
        let original = try cp949(Self.koreanText)
        #expect(String(validating: original, as: UTF8.self) == nil, "not UTF-8")
        let file = try folder.file("kr.csv", original)
        let records = try await pullAll(connector(file))
        #expect(records.map { $0.fields["name"] } == ["김민준", "이서연"])
        #expect(records.first?.fields["memo"] == "똠얌꿍, \"매운\" 맛")

        let outcomes = try await connector(file).apply([erase("1", ["memo": "", "name": "똠"])])
        #expect(names(outcomes) == ["applied"])
        let expected = try cp949("id,name,memo\r\n1,똠,\r\n2,이서연,hello\r\n")
        #expect(try bytes(of: file) == expected, "only the erased fields changed; still CP949")
        let reread = try await pullAll(connector(file))
        #expect(reread.map { $0.fields["name"] } == ["똠", "이서연"])
    }

    @Test func cp949KeepsUntouchedRowsByteForByte() async throws {
        let folder = try TemporaryFolder()
        let file = try folder.file("kr.csv", try cp949(Self.koreanText))
        #expect(names(try await connector(file).apply([delete("2")])) == ["applied"])
        let expected = try cp949("id,name,memo\r\n1,김민준,\"똠얌꿍, \"\"매운\"\" 맛\"\r\n")
        #expect(try bytes(of: file) == expected)
    }

    @Test func autoDetectsUTF8WithAndWithoutMark() async throws {
        let folder = try TemporaryFolder()
        let plain = try folder.file("plain.csv", Self.koreanText)
        let marked = try folder.file("marked.csv", "\u{FEFF}" + Self.koreanText)
        for file in [plain, marked] {
            let records = try await pullAll(connector(file))
            #expect(records.map(\.id) == ["1", "2"])
            #expect(records.map { $0.fields["name"] } == ["김민준", "이서연"])
        }
    }

    @Test func autoDecidesOnTheWholeFile() async throws {
        // More than one 1 MiB chunk of ASCII, then one CP949 row: the whole file is CP949.
        let folder = try TemporaryFolder()
        var content = Array("id,name\n".utf8)
        for index in 0..<60_000 { content += Array("\(index),ascii-name-\(index)\n".utf8) }
        #expect(content.count > 1 << 20)
        content += try cp949("kr,김민준\n")
        let file = try folder.file("mixed.csv", content)
        let records = try await pullAll(connector(file))
        #expect(records.count == 60_001)
        #expect(records.last?.fields["name"] == "김민준")
        #expect(records.first?.fields["name"] == "ascii-name-0")
    }

    @Test func namedEncodingsAreForced() async throws {
        let folder = try TemporaryFolder()
        let file = try folder.file("kr.csv", try cp949(Self.koreanText))
        let asUTF8 = try await pullAll(connector(file, encoding: .utf8))
        #expect(asUTF8.first?.fields["name"] != "김민준", "forced UTF-8 does not decode CP949")
        let asCP949 = try await pullAll(connector(file, encoding: .cp949))
        #expect(asCP949.first?.fields["name"] == "김민준")
    }

    @Test func valuesCP949CannotHoldFailTheOperation() async throws {
        let folder = try TemporaryFolder()
        let original = try cp949(Self.koreanText)
        let file = try folder.file("kr.csv", original)
        let outcomes = try await connector(file).apply([erase("2", ["memo": "🙂"])])
        #expect(names(outcomes) == ["failed(csv.unencodable)"])
        #expect(try bytes(of: file) == original)
    }

    @Test func encodingSettingNames() {
        #expect(CSVEncoding(rawValue: "utf-8") == .utf8)
        #expect(CSVEncoding(rawValue: "cp949") == .cp949)
        #expect(CSVEncoding(rawValue: "auto") == .auto)
        #expect(CSVEncoding(rawValue: "latin1") == nil)
    }
}
