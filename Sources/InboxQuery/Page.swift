import InboxEvents
import Foundation
import Hummingbird
import InboxStore

/// `limit` and `cursor` of a list request, validated.
///
/// Cursors are opaque to clients: base64url of the sort key of the last item returned. Walking them
/// is keyset pagination, so every item comes exactly once even while new rows arrive.
public struct PageRequest: Sendable {
    public static let defaultLimit = 50
    public static let maxLimit = 200

    public let limit: Int
    /// The sort key the next page starts after, as the strings that were encoded.
    public let after: [String]?

    public init(_ request: Request, keyParts: Int) throws {
        let query = request.uri.queryParameters
        if let text = query.get("limit") {
            guard let value = Int(text), (1...Self.maxLimit).contains(value) else {
                throw QueryError.badParameter("limit", "must be a whole number from 1 to \(Self.maxLimit)")
            }
            limit = value
        } else {
            limit = Self.defaultLimit
        }
        if let text = query.get("cursor"), !text.isEmpty {
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
        guard let after, let value = Int64(after[index]) else {
            throw QueryError.badParameter("cursor", "is not a cursor this endpoint returned")
        }
        return value
    }
}

/// Encodes and decodes opaque cursors.
public enum Cursor {
    public static func encode(_ parts: [String]) -> String {
        // base64url without padding, mapped byte by byte (three NSString replacements per page
        // showed in the profile).
        var url: [UInt8] = []
        for byte in Data(parts.joined(separator: "\u{1F}").utf8).base64EncodedString().utf8 {
            switch byte {
            case UInt8(ascii: "+"): url.append(UInt8(ascii: "-"))
            case UInt8(ascii: "/"): url.append(UInt8(ascii: "_"))
            case UInt8(ascii: "="): continue
            default: url.append(byte)
            }
        }
        return String(decoding: url, as: UTF8.self)
    }

    public static func decode(_ text: String) -> [String]? {
        guard text.count <= 512 else { return nil }
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64), let string = String(data: data, encoding: .utf8) else { return nil }
        return string.components(separatedBy: "\u{1F}")
    }
}

extension Request {
    /// An optional, non-empty query parameter, at most `maxLength` characters.
    func parameter(_ name: String, maxLength: Int = 200) throws -> String? {
        guard let value = uri.queryParameters.get(name), !value.isEmpty else { return nil }
        guard value.count <= maxLength else { throw QueryError.badParameter(name, "is longer than \(maxLength) characters") }
        return value
    }

    /// An optional integer query parameter.
    func integerParameter(_ name: String) throws -> Int64? {
        guard let text = try parameter(name, maxLength: 20) else { return nil }
        guard let value = Int64(text) else { throw QueryError.badParameter(name, "must be a whole number") }
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
        guard let value = try parameter("provider") else { return nil }
        guard Provider(rawValue: value) != nil else {
            throw QueryError.badParameter("provider", "must be one of \(Provider.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return value
    }
}
