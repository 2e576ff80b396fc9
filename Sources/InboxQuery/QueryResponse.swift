import Foundation
import Hummingbird
import InboxHTTP

/// JSON for the query API: snake_case keys (matching the table columns), sorted, nulls explicit
/// where the DTO encodes them.
enum QueryResponse {
    static func json(_ value: some Encodable) throws -> Response {
        .json(bytes: Array(try encoder.encode(value)))
    }

    static func json<Item>(_ page: Page<Item>) -> Response {
        .json(bytes: page.json)
    }

    static func json<Item>(_ single: Single<Item>) -> Response {
        .json(bytes: single.json)
    }

    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}
