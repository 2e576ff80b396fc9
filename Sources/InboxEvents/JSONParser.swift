/// A strict RFC 8259 parser for webhook bodies, written for hostile input.
///
/// Why not Foundation's decoders: a body is parsed once, after it is authenticated, and the
/// receiver needs three things they do not give. Nesting is capped (`maxDepth`), so a deep body
/// cannot exhaust the stack. The byte range of each top-level member is recorded, so
/// `messages.data` can be the exact bytes the gateway signed rather than a re-serialisation.
/// And a lone UTF-16 surrogate escape (`"\ud800"`, legal JSON) decodes to U+FFFD in that one
/// string instead of failing the whole delivery: the raw body and the `data` bytes still keep it.
public struct JSONParser {
    /// Why a body is not JSON, with the byte offset where parsing stopped.
    public struct Failure: Error, Equatable, Sendable {
        public let offset: Int
        public let reason: String
    }

    /// Nesting deeper than this is refused: no gateway sends more than a dozen levels.
    public static let maxDepth = 64

    /// A parsed document, with the byte ranges of its top-level members when it is an object.
    public struct Document: Sendable {
        public let value: JSONValue
        /// For each top-level key (last occurrence), the range of its value's bytes in the input.
        public let memberRanges: [String: Range<Int>]
        /// The ranges of string values of secret-named members at any depth (`SecretFields`), in
        /// document order: what must not be stored.
        public let secretRanges: [Range<Int>]
    }

    /// Parses `bytes` as one JSON value with optional surrounding whitespace.
    public static func parse(_ bytes: [UInt8]) throws(Failure) -> Document {
        var parser = JSONParser(bytes: bytes)
        return try parser.document()
    }

    private let bytes: [UInt8]
    private var index = 0
    private var depth = 0
    private var secretRanges: [Range<Int>] = []

    private init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    private mutating func document() throws(Failure) -> Document {
        skipWhitespace()
        var ranges: [String: Range<Int>] = [:]
        let value: JSONValue
        if peek() == UInt8(ascii: "{") {
            (value, ranges) = try object(recording: true)
        } else {
            value = try self.value()
        }
        skipWhitespace()
        guard index == bytes.count else { throw fail("unexpected data after the JSON value") }
        return Document(value: value, memberRanges: ranges, secretRanges: secretRanges)
    }

    private func fail(_ reason: String) -> Failure {
        Failure(offset: index, reason: reason)
    }

    private func peek() -> UInt8? {
        index < bytes.count ? bytes[index] : nil
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    private mutating func value() throws(Failure) -> JSONValue {
        guard let byte = peek() else { throw fail("unexpected end of input") }
        switch byte {
        case UInt8(ascii: "{"): return try object(recording: false).0
        case UInt8(ascii: "["): return try array()
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        default: throw fail("unexpected character")
        }
    }

    private mutating func enter() throws(Failure) {
        depth += 1
        guard depth <= Self.maxDepth else { throw fail("nested deeper than \(Self.maxDepth) levels") }
    }

    /// An object; with `recording`, also the byte range of each member's value.
    private mutating func object(recording: Bool) throws(Failure) -> (JSONValue, [String: Range<Int>]) {
        try enter()
        var ranges: [String: Range<Int>] = [:]
        index += 1  // {
        var members: [(String, JSONValue)] = []
        skipWhitespace()
        if peek() == UInt8(ascii: "}") {
            index += 1
            depth -= 1
            return (.object(members), ranges)
        }
        while true {
            skipWhitespace()
            guard peek() == UInt8(ascii: "\"") else { throw fail("expected a member name") }
            let key = try string()
            skipWhitespace()
            guard peek() == UInt8(ascii: ":") else { throw fail("expected ':' after a member name") }
            index += 1
            skipWhitespace()
            let start = index
            let member = try value()
            if recording { ranges[key] = start..<index }
            if case .string = member, SecretFields.isSecret(key) { secretRanges.append(start..<index) }
            members.append((key, member))
            skipWhitespace()
            switch peek() {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "}"):
                index += 1
                depth -= 1
                return (.object(members), ranges)
            default: throw fail("expected ',' or '}' in an object")
            }
        }
    }

    private mutating func array() throws(Failure) -> JSONValue {
        try enter()
        index += 1  // [
        var elements: [JSONValue] = []
        skipWhitespace()
        if peek() == UInt8(ascii: "]") {
            index += 1
            depth -= 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try value())
            skipWhitespace()
            switch peek() {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "]"):
                index += 1
                depth -= 1
                return .array(elements)
            default: throw fail("expected ',' or ']' in an array")
            }
        }
    }

    private mutating func literal(_ word: StaticString) throws(Failure) {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw fail("unexpected end of input") }
        let expected = UnsafeBufferPointer(start: word.utf8Start, count: count)
        for offset in 0..<count where bytes[index + offset] != expected[offset] {
            throw fail("unexpected character")
        }
        index += count
    }

    private mutating func number() throws(Failure) -> JSONValue {
        let start = index
        var integral = true
        if peek() == UInt8(ascii: "-") { index += 1 }
        guard let first = peek(), isDigit(first) else { throw fail("a number needs digits") }
        if first == UInt8(ascii: "0") {
            index += 1
        } else {
            while let byte = peek(), isDigit(byte) { index += 1 }
        }
        if peek() == UInt8(ascii: ".") {
            integral = false
            index += 1
            guard let byte = peek(), isDigit(byte) else { throw fail("a fraction needs digits") }
            while let byte = peek(), isDigit(byte) { index += 1 }
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            integral = false
            index += 1
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { index += 1 }
            guard let byte = peek(), isDigit(byte) else { throw fail("an exponent needs digits") }
            while let byte = peek(), isDigit(byte) { index += 1 }
        }
        let text = String(decoding: bytes[start..<index], as: UTF8.self)
        if integral, let value = Int64(text) { return .integer(value) }
        guard let value = Double(text) else { throw fail("number out of range") }
        return .double(value)
    }

    private func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    private mutating func string() throws(Failure) -> String {
        index += 1  // opening quote
        let start = index
        // Fast path: no escapes, the bytes are the string. ASCII needs no validation, and
        // `String(validating:)` resolves its encoding's generic metadata at run time on every
        // call (~3 % of a webhook's CPU); only strings with other bytes are validated.
        var highBits: UInt8 = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let text: String
                if highBits < 0x80 {
                    text = String(decoding: bytes[start..<index], as: UTF8.self)
                } else {
                    guard let valid = String(validating: bytes[start..<index], as: UTF8.self) else {
                        throw Failure(offset: start, reason: "a string is not valid UTF-8")
                    }
                    text = valid
                }
                index += 1
                return text
            }
            highBits |= byte
            if byte == UInt8(ascii: "\\") { break }
            guard byte >= 0x20 else { throw fail("a control character must be escaped in a string") }
            index += 1
        }
        var scalars = String.UnicodeScalarView()
        guard let prefix = String(validating: bytes[start..<index], as: UTF8.self) else {
            throw Failure(offset: start, reason: "a string is not valid UTF-8")
        }
        scalars.append(contentsOf: prefix.unicodeScalars)
        var runStart = index
        func flushRun(_ parser: JSONParser, to end: Int) throws(Failure) {
            guard runStart < end else { return }
            guard let run = String(validating: parser.bytes[runStart..<end], as: UTF8.self) else {
                throw Failure(offset: runStart, reason: "a string is not valid UTF-8")
            }
            scalars.append(contentsOf: run.unicodeScalars)
        }
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                try flushRun(self, to: index)
                index += 1
                return String(scalars)
            }
            guard byte >= 0x20 else { throw fail("a control character must be escaped in a string") }
            guard byte == UInt8(ascii: "\\") else {
                index += 1
                continue
            }
            try flushRun(self, to: index)
            index += 1
            guard let escape = peek() else { break }
            index += 1
            switch escape {
            case UInt8(ascii: "\""): scalars.append("\"")
            case UInt8(ascii: "\\"): scalars.append("\\")
            case UInt8(ascii: "/"): scalars.append("/")
            case UInt8(ascii: "b"): scalars.append("\u{08}")
            case UInt8(ascii: "f"): scalars.append("\u{0C}")
            case UInt8(ascii: "n"): scalars.append("\n")
            case UInt8(ascii: "r"): scalars.append("\r")
            case UInt8(ascii: "t"): scalars.append("\t")
            case UInt8(ascii: "u"): scalars.append(try unicodeEscape())
            default: throw fail("unknown escape in a string")
            }
            runStart = index
        }
        throw fail("unterminated string")
    }

    /// After `\u`: one scalar, joining a surrogate pair; a lone surrogate becomes U+FFFD.
    private mutating func unicodeEscape() throws(Failure) -> Unicode.Scalar {
        let first = try hex4()
        if (0xD800...0xDBFF).contains(first) {
            if index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") {
                let saved = index
                index += 2
                let second = try hex4()
                if (0xDC00...0xDFFF).contains(second) {
                    let value = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
                    return Unicode.Scalar(value) ?? "\u{FFFD}"
                }
                index = saved  // not a pair: the next escape stands on its own
            }
            return "\u{FFFD}"
        }
        return Unicode.Scalar(first) ?? "\u{FFFD}"  // nil only for a lone low surrogate
    }

    private mutating func hex4() throws(Failure) -> UInt32 {
        guard index + 4 <= bytes.count else { throw fail("a \\u escape needs four hex digits") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw fail("a \\u escape needs four hex digits")
            }
            value = value << 4 | digit
            index += 1
        }
        return value
    }
}
