import Foundation

/// A parsed JSON document, read with lenient accessors.
///
/// Gateways are loose with JSON types (a timestamp as text, a flag as 0/1). The accessors accept the
/// plausible spellings and return nil for anything else, so a missing or odd optional field never
/// fails a delivery; required fields are checked by the payload types that read them.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    /// An integer literal that fits in 64 bits.
    case integer(Int64)
    /// Any other number.
    case double(Double)
    case string(String)
    case array([JSONValue])
    /// Members in document order; a repeated key keeps its last value (`member(_:)` finds it).
    case object([(String, JSONValue)])

    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case let (.bool(a), .bool(b)): return a == b
        case let (.integer(a), .integer(b)): return a == b
        case let (.double(a), .double(b)): return a == b
        case let (.string(a), .string(b)): return a == b
        case let (.array(a), .array(b)): return a == b
        case let (.object(a), .object(b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    /// The value of member `name` of an object (the last one when repeated); nil otherwise.
    public subscript(_ name: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.last { $0.0 == name }?.1
    }

    /// True when this is an object.
    public var isObject: Bool {
        if case .object = self { return true }
        return false
    }

    /// A string, or an integer spelled as text; nil for anything else (null included).
    public var stringValue: String? {
        switch self {
        case .string(let value): return value
        case .integer(let value): return String(value)
        default: return nil
        }
    }

    /// An integer, a whole-valued float, or an integer spelled as text.
    public var intValue: Int64? {
        switch self {
        case .integer(let value): return value
        case .double(let value) where value.isFinite && abs(value) < 9e18: return Int64(value)
        case .string(let text): return Int64(text.trimmingSpacesAndTabs)
        default: return nil
        }
    }

    /// true/false, 0/1, or "true"/"false"/"1"/"0".
    public var boolValue: Bool? {
        switch self {
        case .bool(let value): return value
        case .integer(let value): return value != 0
        case .string(let text):
            switch text.lowercased() {
            case "true", "1": return true
            case "false", "0": return false
            default: return nil
            }
        default: return nil
        }
    }

    /// Member accessors for payload readers: `data.string("body")`.
    public func string(_ name: String) -> String? { self[name]?.stringValue }
    public func int(_ name: String) -> Int64? { self[name]?.intValue }
    public func bool(_ name: String) -> Bool? { self[name]?.boolValue }
    /// Member `name` when it is an object.
    public func object(_ name: String) -> JSONValue? {
        guard let value = self[name], value.isObject else { return nil }
        return value
    }
}

extension JSONValue {
    /// Compact JSON for this value (every member and value kept; used where the gateway's own
    /// bytes are not one contiguous object, e.g. one message out of a Meta batch).
    public var serialized: [UInt8] {
        var out: [UInt8] = []
        write(to: &out)
        return out
    }

    private func write(to out: inout [UInt8]) {
        switch self {
        case .null: out += Array("null".utf8)
        case .bool(let value): out += Array((value ? "true" : "false").utf8)
        case .integer(let value): out += Array(String(value).utf8)
        case .double(let value): out += Array((value.isFinite ? "\(value)" : "null").utf8)
        case .string(let value): Self.writeString(value, to: &out)
        case .array(let elements):
            out.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                element.write(to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (index, (key, value)) in members.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                Self.writeString(key, to: &out)
                out.append(UInt8(ascii: ":"))
                value.write(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    private static func writeString(_ text: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case 0x0A: out += Array("\\n".utf8)
            case 0x0D: out += Array("\\r".utf8)
            case 0x09: out += Array("\\t".utf8)
            case 0..<0x20: out += Array(String(format: "\\u%04x", byte).utf8)
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

extension JSONValue {
    /// An object of the members that have a value (neither nil nor JSON null), in order: how typed
    /// `content` objects are built from what a gateway happened to send.
    public static func compactObject(_ members: [(String, JSONValue?)]) -> JSONValue {
        var kept: [(String, JSONValue)] = []
        for (name, value) in members {
            if let value, value != .null { kept.append((name, value)) }
        }
        return .object(kept)
    }

    /// A string value, or nil.
    public static func text(_ value: String?) -> JSONValue? {
        value.map(JSONValue.string)
    }
}
