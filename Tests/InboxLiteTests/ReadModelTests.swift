import Foundation
@testable import InboxQuery
import Testing

/// Each read model is declared once (`ReadModels`); the OpenAPI document describes the same
/// objects by hand. This keeps the two in step: every field a model writes is a documented
/// property, every documented property is written, and exactly the always-written fields are
/// `required`.
@Suite("Read models and the OpenAPI document")
struct ReadModelTests {
    /// `components.schemas.<name>` of openapi.yaml: its property names and required list, with
    /// nested object properties (one level, as `last_message` has) keyed by the member name.
    struct Schema {
        var properties: [String] = []
        var required: Set<String> = []
        var nested: [String: Schema] = [:]
    }

    static func schema(_ name: String) throws -> Schema {
        let text = try String(contentsOf: TestInbox.migrations.deletingLastPathComponent().appendingPathComponent("openapi.yaml"), encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let start = lines.firstIndex(of: "    \(name):") else { throw SchemaMissing(name: name) }
        var block: [String] = []
        for line in lines[(start + 1)...] {
            let indent = line.prefix { $0 == " " }.count
            if !line.trimmingCharacters(in: .whitespaces).isEmpty, indent <= 4 { break }
            block.append(line)
        }
        return parse(block, indent: 6)
    }

    private static func parse(_ block: [String], indent: Int) -> Schema {
        var schema = Schema()
        let pad = String(repeating: " ", count: indent)
        var index = 0
        while index < block.count {
            let line = block[index]
            if line.hasPrefix(pad + "required: [") {
                let list = line.dropFirst(pad.count + "required: [".count).dropLast()
                schema.required = Set(list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
            } else if line.hasPrefix(pad + "  "), !line.hasPrefix(pad + "    "), let colon = line.firstIndex(of: ":"),
                      block[..<index].contains(pad + "properties:") {
                let key = line[line.index(line.startIndex, offsetBy: indent + 2)..<colon]
                schema.properties.append(String(key))
                if line.hasSuffix(":") {  // a nested object: its lines are indented further
                    var inner: [String] = []
                    var next = index + 1
                    while next < block.count, block[next].hasPrefix(pad + "    ") { inner.append(block[next]); next += 1 }
                    schema.nested[String(key)] = parse(inner, indent: indent + 4)
                    index = next
                    continue
                }
            }
            index += 1
        }
        return schema
    }

    struct SchemaMissing: Error { let name: String }

    /// The names a model writes, and those it always writes.
    static func members(_ fields: [Field]) -> (all: [String], always: Set<String>) {
        var all: [String] = []
        var always = Set<String>()
        for field in fields {
            let name = field.name.description
            switch field.kind {
            case .hidden: continue
            case .text, .integer, .boolean, .object, .rawJSON: always.insert(name)
            default: break
            }
            all.append(name)
        }
        return (all, always)
    }

    static func check(_ schemaName: String, _ models: [ReadModel], requiredFrom base: ReadModel) throws {
        let schema = try schema(schemaName)
        var written: [String] = []
        for model in models {
            for name in members(model.fields).all where !written.contains(name) { written.append(name) }
        }
        #expect(written == schema.properties, "\(schemaName): the model writes \(written), the document lists \(schema.properties)")
        #expect(members(base.fields).always == schema.required, "\(schemaName): always written vs required")
        for field in base.fields {
            guard case .object(let nested) = field.kind else { continue }
            let inner = try #require(schema.nested[field.name.description], "\(schemaName).\(field.name) is not an object in the document")
            #expect(members(nested).all == inner.properties, "\(schemaName).\(field.name) properties")
            #expect(members(nested).always == inner.required, "\(schemaName).\(field.name) required")
        }
    }

    @Test func everyModelMatchesItsSchema() throws {
        try Self.check("Session", [ReadModels.session], requiredFrom: ReadModels.session)
        try Self.check("Contact", [ReadModels.contact], requiredFrom: ReadModels.contact)
        try Self.check("Message", [ReadModels.message, ReadModels.searchHit, ReadModels.messageWithData], requiredFrom: ReadModels.message)
        try Self.check("Ack", [ReadModels.ack], requiredFrom: ReadModels.ack)
        try Self.check("Group", [ReadModels.group], requiredFrom: ReadModels.group)
        try Self.check("SessionEvent", [ReadModels.sessionEvent], requiredFrom: ReadModels.sessionEvent)
        try Self.check("Conversation", [ReadModels.conversation], requiredFrom: ReadModels.conversation)
        try Self.check("Delivery", [ReadModels.delivery(includeBody: true)], requiredFrom: ReadModels.delivery(includeBody: false))
    }
}
