import Foundation
@testable import RESTCRMConnector
import RetentionCore
import Testing

/// Manifest mistakes are `ConfigError`s at the manifest's own line and key.
struct ManifestConfigTests {
    static let base = """
        name: t
        baseURL: https://crm.invalid
        list:
          path: /people
          pagination: {type: cursor, next: next}
        mapping: {records: data, id: id, fields: {created_at: created}}
        """

    static func error(_ yaml: String) -> ConfigError? {
        do {
            _ = try Fixture.manifest(yaml)
            return nil
        } catch let error as ConfigError {
            return error
        } catch {
            return nil
        }
    }

    @Test func theBaseIsValid() throws {
        let manifest = try Fixture.manifest(Self.base)
        #expect(manifest.list.pagination == .cursor(next: JSONPath("next")!))
        #expect(!manifest.canWrite)
    }

    @Test(arguments: [
        ("list:\n  path: /people\n  query: {after: \"{{curser}}\"}\n", "list.query.after", 5, "config.template"),
        ("list:\n  path: people\n", "list.path", 4, "config.path"),
        ("list:\n  path: /people\n  pagination: {type: pages}\n", "list.pagination.type", 5, "config.choice"),
        ("list:\n  path: /people\n  body: '{\"a\": '\n", "list.body", 5, "config.json"),
        ("list:\n  path: /people\n  method: FETCH\n", "list.method", 5, "config.choice"),
    ])
    func listMistakes(list: String, key: String, line: Int, code: String) throws {
        let yaml = Self.base.replacingOccurrences(of: "list:\n  path: /people\n  pagination: {type: cursor, next: next}\n", with: list)
        let error = try #require(Self.error(yaml))
        #expect(error.key == key)
        #expect(error.code == code)
        #expect(error.location?.line == line)
    }

    @Test func softDeleteNeedsARestoreWindow() throws {
        let error = try #require(Self.error(Self.base + "\nread: {one: {path: \"/people/{{id}}\"}}\ndelete: {mode: soft, one: {path: \"/people/{{id}}\"}}"))
        #expect(error.key == "delete")
        #expect(error.problem.contains("restorable"))
    }

    @Test func aReadMustNameTheIds() throws {
        let error = try #require(Self.error(Self.base + "\nread: {batch: {path: /people}}"))
        #expect(error.key == "read.batch")
    }

    @Test func anUpdateNeedsIdAndFields() throws {
        let error = try #require(Self.error(Self.base + "\nupdate: {path: \"/people/{{id}}\", body: '{}'}"))
        #expect(error.key == "update")
    }

    @Test func aFieldCannotUseAnUndeclaredLookup() throws {
        let yaml = Self.base.replacingOccurrences(of: "fields: {created_at: created}", with: "fields: {created_at: created, purpose: {path: p, options: personFields}}")
        let error = try #require(Self.error(yaml))
        #expect(error.code == "config.unknown_lookup")
    }

    @Test func incrementalNeedsAMappedField() throws {
        let error = try #require(Self.error(Self.base + "\nincremental: {field: updated_at}"))
        #expect(error.key == "incremental")
    }

    @Test func anUnknownRootKeyIsNamed() throws {
        let error = try #require(Self.error(Self.base + "\npaging: {}"))
        #expect(error.code == "config.unknown_key")
        #expect(error.key == "paging")
    }

    @Test func templatesRenderJSONValuesAndDropEmptyMembers() throws {
        let node = ConfigNode(value: .scalar(#"{"limit": "{{pageSize}}", "after": "{{cursor}}", "inputs": "{{ids:id}}", "q": "x {{ids}} y"}"#), location: nil, keyPath: "body")
        let template = try JSONTemplate.config(node)
        var variables = TemplateVariables()
        variables["pageSize"] = .integer(200)
        variables["ids"] = .array([.string("1"), .string("2")])
        let rendered = String(data: template.render(variables).serialized(), encoding: .utf8)
        #expect(rendered == #"{"inputs":[{"id":"1"},{"id":"2"}],"limit":200,"q":"x 1,2 y"}"#)
    }
}
