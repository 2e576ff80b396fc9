import InboxEvents
import InboxStore

/// Writes JSON straight into bytes.
///
/// The query API's pages are many small objects; Foundation's `JSONEncoder` with snake_case key
/// conversion spent over half of a page's time (measured with perf on 50-message thread pages), so
/// list responses are written directly, keys already in snake_case.
///
/// The output is a buffer of its own rather than an `[UInt8]`: an array append checks uniqueness
/// and capacity for every byte, and a page is thousands of small appends (a tenth of a page's
/// CPU). Not copyable, so two writers can never share the buffer.
public struct JSONWriter: ~Copyable {
    private var storage: UnsafeMutablePointer<UInt8>
    private var count = 0
    private var capacity: Int
    /// Bit `d`: the container open at depth `d` already has a member, so the next needs a comma.
    /// (A bit set rather than an array: it is checked for every value of every page.)
    private var hasMember: UInt64 = 0
    private var depth = 0

    public init() {
        capacity = 32 * 1024
        storage = .allocate(capacity: capacity)
    }

    deinit {
        storage.deallocate()
    }

    /// What has been written.
    public var bytes: [UInt8] {
        Array(UnsafeBufferPointer(start: storage, count: count))
    }

    /// How many bytes have been written: where the next value starts.
    var byteCount: Int { count }

    /// The next value starts a document of its own: no comma before it.
    mutating func startDocument() {
        precondition(depth == 0, "a document starts outside every container")
        hasMember = 0
    }

    /// Bytes written in `range`.
    func bytes(_ range: Range<Int>) -> [UInt8] {
        Array(UnsafeBufferPointer(start: storage + range.lowerBound, count: range.count))
    }

    private mutating func reserve(_ extra: Int) {
        guard count + extra > capacity else { return }
        let grown = max(capacity * 2, count + extra)
        let moved = UnsafeMutablePointer<UInt8>.allocate(capacity: grown)
        moved.initialize(from: storage, count: count)
        storage.deallocate()
        storage = moved
        capacity = grown
    }

    private mutating func append(_ byte: UInt8) {
        reserve(1)
        storage[count] = byte
        count += 1
    }

    private mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        reserve(bytes.count)
        (storage + count).initialize(from: base, count: bytes.count)
        count += bytes.count
    }

    private mutating func append(_ first: UInt8, _ second: UInt8) {
        reserve(2)
        storage[count] = first
        storage[count + 1] = second
        count += 2
    }

    private mutating func append(_ text: StaticString) {
        text.withUTF8Buffer { append($0) }
    }

    public mutating func object(_ body: (inout JSONWriter) throws -> Void) rethrows {
        separate()
        append(UInt8(ascii: "{"))
        enter()
        try body(&self)
        depth -= 1
        append(UInt8(ascii: "}"))
    }

    public mutating func array(_ body: (inout JSONWriter) throws -> Void) rethrows {
        separate()
        append(UInt8(ascii: "["))
        enter()
        try body(&self)
        depth -= 1
        append(UInt8(ascii: "]"))
    }

    /// Starts a member of the current object; the next value written is its value.
    /// A member name already encoded as `"name":`.
    /// Unix seconds as an ISO 8601 member (see `Timestamps.writeUnixTime`); nothing at all, not
    /// even the name, when out of range.
    mutating func unixTime(_ seconds: Int64, member encoded: UnsafeBufferPointer<UInt8>) {
        guard Timestamps.isUnixTimeInRange(seconds) else { return }
        key(encoded: encoded)
        separate()
        append(UInt8(ascii: "\""))
        reserve(Timestamps.unixTimeLength)
        count += Timestamps.writeUnixTime(seconds, to: storage + count)
        append(UInt8(ascii: "\""))
    }

    public mutating func key(_ name: StaticString) {
        separate()
        append(UInt8(ascii: "\""))
        append(name)
        append(UInt8(ascii: "\""))
        append(UInt8(ascii: ":"))
        hasMember &= ~(1 << UInt64(depth))
    }

    public mutating func string(_ value: String?) {
        separate()
        guard var value else { return appendNull() }
        append(UInt8(ascii: "\""))
        value.withUTF8 { appendEscaped($0) }
        append(UInt8(ascii: "\""))
    }

    /// A string value whose inside `body` appends (with `appendEscaped`).
    public mutating func quoted(_ body: (inout JSONWriter) -> Void) {
        separate()
        append(UInt8(ascii: "\""))
        body(&self)
        append(UInt8(ascii: "\""))
    }

    /// Stored JSON as a value, unchanged; `null` when empty.
    public mutating func raw(_ json: UnsafeBufferPointer<UInt8>) {
        separate()
        if json.isEmpty { appendNull() } else { append(json) }
    }

    /// The members of a stored JSON object (`{"a":1,"b":2}`) as members of the object being
    /// written; nothing for `{}` or text that is not an object.
    mutating func members(_ object: UnsafeBufferPointer<UInt8>) {
        var start = 0, end = object.count
        while start < end, object[start] != UInt8(ascii: "{") { start += 1 }
        while end > start, object[end - 1] != UInt8(ascii: "}") { end -= 1 }
        guard end - start > 2 else { return }
        separate()
        append(UnsafeBufferPointer(rebasing: object[(start + 1)..<(end - 1)]))
    }

    /// UTF-8 text as the inside of a JSON string: runs that need no escape are copied whole.
    public mutating func appendEscaped(_ utf8: UnsafeBufferPointer<UInt8>) {
        var runStart = 0
        for index in 0..<utf8.count {
            let byte = utf8[index]
            guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
            if runStart < index { append(UnsafeBufferPointer(rebasing: utf8[runStart..<index])) }
            runStart = index + 1
            switch byte {
            case UInt8(ascii: "\""): append(UInt8(ascii: "\\"), UInt8(ascii: "\""))
            case UInt8(ascii: "\\"): append(UInt8(ascii: "\\"), UInt8(ascii: "\\"))
            case UInt8(ascii: "\n"): append(UInt8(ascii: "\\"), UInt8(ascii: "n"))
            case UInt8(ascii: "\r"): append(UInt8(ascii: "\\"), UInt8(ascii: "r"))
            case UInt8(ascii: "\t"): append(UInt8(ascii: "\\"), UInt8(ascii: "t"))
            default:
                let hex: StaticString = "0123456789abcdef"
                append(UInt8(ascii: "\\"), UInt8(ascii: "u"))
                append(UInt8(ascii: "0"), UInt8(ascii: "0"))
                append(hex.utf8Start[Int(byte >> 4)], hex.utf8Start[Int(byte & 0xF)])
            }
        }
        if runStart < utf8.count { append(UnsafeBufferPointer(rebasing: utf8[runStart...])) }
    }

    public mutating func integer(_ value: Int64?) {
        separate()
        guard let value else { return appendNull() }
        // Digits written in place: String(value) allocated a string per number.
        if value < 0 { append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &digits) { buffer in
            var start = buffer.count
            repeat {
                start -= 1
                buffer[start] = UInt8(48 + magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            append(UnsafeBufferPointer(rebasing: buffer.bindMemory(to: UInt8.self)[start...]))
        }
    }

    public mutating func boolean(_ value: Bool) {
        separate()
        append(value ? "true" : "false")
    }

    public mutating func double(_ value: Double?) {
        separate()
        guard let value, value.isFinite else { return appendNull() }
        var text = value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
        text.withUTF8 { append($0) }
    }

    private mutating func appendNull() {
        append("null")
    }

    /// Writes the comma before every element but the first of the current container.
    private mutating func enter() {
        depth += 1
        precondition(depth < 64, "JSON nested deeper than 63 levels")
        hasMember &= ~(1 << UInt64(depth))
    }

    /// Opens an object without a closure (`endObject` closes it): for writers driven by a loop.
    mutating func beginObject() {
        separate()
        append(UInt8(ascii: "{"))
        enter()
    }

    mutating func endObject() {
        depth -= 1
        append(UInt8(ascii: "}"))
    }

    /// A member name already encoded as `"name":`.
    mutating func key(encoded: UnsafeBufferPointer<UInt8>) {
        separate()
        append(encoded)
        hasMember &= ~(1 << UInt64(depth))
    }

    private mutating func separate() {
        let bit: UInt64 = 1 << UInt64(depth)
        if hasMember & bit != 0 { append(UInt8(ascii: ",")) }
        hasMember |= bit
    }
}
