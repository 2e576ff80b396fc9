/// Finds the `sessionId` a webhook body claims without parsing it: the receiver must choose the
/// session's secret before it may decode anything.
///
/// The scan is bounded (the first `limit` bytes) and strict: it takes the first key of that name
/// followed by `:` and a plain string without escapes. Whatever it finds is only a claim used to
/// pick a secret; after the signature checks out, the parsed body must agree with it.
enum SessionIdScanner {
    /// Inbox Hub writes `sessionId` second, right after `event`; 4 KiB leaves room for any order.
    static let limit = 4096
    /// Session ids are short; a longer value is not a session id.
    static let maxLength = 256

    /// The string value of the first member named `name` (Inbox Hub `sessionId`, WAHA `session`,
    /// Evolution `instance`, Meta `phone_number_id`).
    static func scan(_ body: [UInt8], key name: String = "sessionId") -> String? {
        let key = Array("\"\(name)\"".utf8)
        let end = min(body.count, limit)
        guard end >= key.count else { return nil }
        var index = 0
        while index + key.count <= end {
            if body[index] == key[0], body[index..<(index + key.count)].elementsEqual(key) {
                var cursor = index + key.count
                skipSpace(body, &cursor, end)
                if cursor < end, body[cursor] == UInt8(ascii: ":") {
                    cursor += 1
                    skipSpace(body, &cursor, end)
                    return stringValue(body, from: cursor, end: end)
                }
            }
            index += 1
        }
        return nil
    }

    private static func skipSpace(_ body: [UInt8], _ cursor: inout Int, _ end: Int) {
        while cursor < end, [0x20, 0x09, 0x0A, 0x0D].contains(body[cursor]) { cursor += 1 }
    }

    private static func stringValue(_ body: [UInt8], from start: Int, end: Int) -> String? {
        guard start < end, body[start] == UInt8(ascii: "\"") else { return nil }
        var cursor = start + 1
        while cursor < end, cursor - start <= maxLength {
            switch body[cursor] {
            case UInt8(ascii: "\""):
                return String(validating: body[(start + 1)..<cursor], as: UTF8.self)
            case UInt8(ascii: "\\"), 0..<0x20:
                return nil
            default:
                cursor += 1
            }
        }
        return nil
    }
}
