import Foundation
import Hummingbird
import InboxHTTP

/// JSON for the query API: snake_case keys (matching the table columns), sorted, nulls explicit
/// where the DTO encodes them.
enum QueryResponse {
    static func json(_ value: some Encodable) throws -> Response {
        .json(bytes: Array(try encoder.encode(value)))
    }

    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}
