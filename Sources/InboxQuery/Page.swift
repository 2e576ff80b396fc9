import InboxEvents
import Foundation
import Hummingbird
import InboxStore

/// `limit` and `cursor` of a list request, validated.
///
/// A cursor is the sort key of the last item returned (`1767225600.4521`: a time and a row id,
/// or one id): walking them is keyset pagination, so every item comes exactly once even while
/// new rows arrive. Clients pass back `next_cursor` as they got it; any well-formed key is a
/// valid place to start, so the document can describe cursors exactly.
public struct PageRequest: Sendable {
    public static let defaultLimit = 50
    public static let maxLimit = 200

    public let limit: Int
    /// The sort key the next page starts after.
    public let after: [Int64]?

    public init(_ request: Request, keyParts: Int) throws {
        if let text = try request.queryValue("limit") {
            guard let value = Int(text), (1...Self.maxLimit).contains(value) else {
                throw QueryError.badParameter("limit", "must be a whole number from 1 to \(Self.maxLimit)")
            }
            limit = value
        } else {
            limit = Self.defaultLimit
        }
        if let text = try request.queryValue("cursor") {
            guard let parts = Cursor.decode(text), parts.count == keyParts else {
                throw QueryError.badParameter("cursor", "is not a cursor this endpoint returned")
            }
            after = parts
        } else {
            after = nil
        }
    }

    /// The integer at `index` of the cursor key.
    public func int(_ index: Int) throws -> Int64 {
        guard let after, after.indices.contains(index) else {
            throw QueryError.badParameter("cursor", "is not a cursor this endpoint returned")
        }
        return after[index]
    }
}

/// Cursors: the key's integers joined by dots.
public enum Cursor {
    public static func encode(_ parts: [String]) -> String {
        parts.joined(separator: ".")
    }

    public static func decode(_ text: String) -> [Int64]? {
        guard !text.isEmpty, text.utf8.count <= 40 else { return nil }
        var parts: [Int64] = []
        for part in text.split(separator: ".", omittingEmptySubsequences: false) {
            guard part.utf8.count <= 19, let value = Int64(part) else { return nil }
            parts.append(value)
        }
        return parts
    }
}

extension Request {
    /// The one value of a query parameter, nil when absent. A parameter given twice is a 400: which
    /// of them counts would otherwise be the server's guess (`?include=&include=body`).
    public func queryValue(_ name: String) throws -> String? {
        let values = uri.queryParameters.getAll(name)
        guard values.count <= 1 else { throw QueryError.badParameter(name, "is given more than once") }
        return values.first.map { String($0) }
    }

    /// An optional, non-empty query parameter, at most `maxLength` characters (Unicode code
    /// points, as the OpenAPI document's `maxLength` counts them).
    public func parameter(_ name: String, maxLength: Int = 200) throws -> String? {
        guard let value = try queryValue(name), !value.isEmpty else { return nil }
        guard value.unicodeScalars.count <= maxLength else {
            throw QueryError.badParameter(name, "is longer than \(maxLength) characters")
        }
        return value
    }

    /// An optional parameter that takes one of a few words: absent is nil, anything else — the
    /// empty string included — must be one of `allowed`.
    func choiceParameter(_ name: String, _ allowed: [String]) throws -> String? {
        guard let value = try queryValue(name) else { return nil }
        guard allowed.contains(value) else {
            throw QueryError.badParameter(name, "must be \(allowed.count == 1 ? allowed[0] : "one of " + allowed.joined(separator: ", "))")
        }
        return value
    }

    /// An optional unix time query parameter: a whole number of seconds up to the year 9999.
    func unixTimeParameter(_ name: String) throws -> Int64? {
        guard let text = try queryValue(name) else { return nil }
        guard let value = Int64(text), (0...253_402_300_799).contains(value) else {
            throw QueryError.badParameter(name, "must be a unix time in seconds (0 to 253402300799)")
        }
        return value
    }
}

extension RequestContext {
    /// A path parameter, percent-decoded.
    func pathParameter(_ name: String) throws -> String {
        guard let raw = parameters.get(name), let value = raw.removingPercentEncoding, !value.isEmpty else {
            throw QueryError.badParameter(name, "is missing")
        }
        return value
    }
}

extension Request {
    /// `?provider=`: one of the gateways, or a 400 naming it.
    func providerParameter() throws -> String? {
        guard let value = try queryValue("provider") else { return nil }
        guard Provider(rawValue: value) != nil else {
            throw QueryError.badParameter("provider", "must be one of \(Provider.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return value
    }
}
