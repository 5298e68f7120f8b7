import Foundation
import RetentionCore
import Testing

struct JSONPathTests {
    static let document = """
        {"id": 42, "ratio": 0.25, "big": 1614849300000, "whole": 3.0, "flag": false, "none": null,
         "properties": {"createdate": "2021-03-04T09:15:00.000Z"},
         "paging": {"next": {"after": "NTI1Cg%3D%3D"}},
         "email": [{"label": "work", "value": "w@example.com", "primary": false},
                   {"label": "home", "value": "h@example.com", "primary": true}],
         "phone": [{"label": "work", "value": "010-0000-0000", "primary": false}],
         "empty": [], "tags": ["a", "b"]}
        """

    static func evaluate(_ path: String) throws -> String? {
        let root = try JSONValue.parse(Data(document.utf8))
        return try #require(JSONPath(path)).evaluate(root)?.text
    }

    @Test(arguments: [
        ("id", "42"),
        ("ratio", "0.25"),
        ("big", "1614849300000"),
        ("whole", "3"),
        ("flag", "false"),
        ("properties.createdate", "2021-03-04T09:15:00.000Z"),
        ("paging.next.after", "NTI1Cg%3D%3D"),
        ("email[primary=true].value", "h@example.com"),
        ("phone[primary=true].value", "010-0000-0000"),
        ("email[0].label", "work"),
        ("tags[1]", "b"),
    ])
    func readsScalars(path: String, expected: String) throws {
        #expect(try Self.evaluate(path) == expected)
    }

    @Test(arguments: ["none", "missing", "properties.missing", "id.deeper", "tags[5]", "empty[primary=true].value",
                      "email", "properties", "tags.first"])
    func missingNullOrNonScalarIsAbsent(path: String) throws {
        #expect(try Self.evaluate(path) == nil)
    }

    @Test(arguments: ["", "a..b", ".a", "a.", "a[", "a[]", "a[x]", "a[=x]", "a]b", "a[-1]", "a.[0]", "a[+1]"])
    func rejectsInvalidPaths(text: String) {
        #expect(JSONPath(text) == nil)
    }

    @Test func rootArrayIndex() throws {
        let root = try JSONValue.parse(Data(#"[{"id": "7"}]"#.utf8))
        #expect(try #require(JSONPath("[0].id")).evaluate(root)?.text == "7")
        #expect(try #require(JSONPath("[0].id")).description == "[0].id")
    }

    @Test func keepsBooleansAndNumbersApart() throws {
        let root = try JSONValue.parse(Data(#"{"t": true, "one": 1, "zero": 0, "f": 1.5}"#.utf8))
        #expect(JSONPath("t")?.evaluate(root) == .bool(true))
        #expect(JSONPath("one")?.evaluate(root)?.text == "1")
        #expect(JSONPath("zero")?.evaluate(root)?.text == "0")
        #expect(JSONPath("f")?.evaluate(root)?.text == "1.5")
    }
}

/// The one JSON value type: 64-bit ids exact, canonical text stable (event ids and request bodies).
struct JSONValueTests {
    @Test func sixtyFourBitIdsSurviveExactly() throws {
        let root = try JSONValue.parse(Data(#"{"a": 9223372036854775807, "b": 18446744073709551615, "c": 12345678901234567}"#.utf8))
        #expect(root["a"] == .number("9223372036854775807"))
        #expect(root["b"] == .number("18446744073709551615"))
        #expect(root["c"]?.int64 == 12_345_678_901_234_567)
        #expect(root["a"]?.scalarText == "9223372036854775807")
    }

    @Test func canonicalTextSortsKeysByBytesAndEscapesControls() throws {
        let root = try JSONValue.parse(Data("{\"b\": [1, 2.5, true, null], \"a\": \"x\\\"y\\u0001\\n\", \"é\": {}, \"Z\": 1e3}".utf8))
        #expect(root.canonical == #"{"Z":1000,"a":"x\"y\u0001\n","b":[1,2.5,true,null],"é":{}}"#)
        #expect(try JSONValue.parse(root.serialized()) == root, "the canonical text parses back to the same value")
        #expect(JSONPath("$")?.evaluate(root) == root)
    }

    @Test func booleansAreTextButNotScalarText() {
        #expect(JSONValue.bool(true).text == "true")
        #expect(JSONValue.bool(true).scalarText == nil)
        #expect(JSONValue.number(Double.nan) == .null)
        #expect(JSONValue.number(2.0) == .number("2"))
        #expect(JSONValue.integer(Int64(-3)) == .number("-3"))
    }

    @Test func malformedInputThrows() {
        #expect(throws: (any Error).self) { try JSONValue.parse(Data(#"{"a": [1, 2"#.utf8)) }
        #expect(throws: (any Error).self) { try JSONValue.parse(Data()) }
    }
}
