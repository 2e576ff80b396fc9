import Foundation
import InboxStore
import NIOCore
import PostgresNIO

/// A PostgreSQL row read in place, as the query side reads SQLite's (`RowCursor`): results come
/// in binary format, so text is the cell's UTF-8 bytes as they arrived, integers of any width
/// and booleans read as integers, `numeric` (a `sum()`) as an integer when whole.
struct PostgresRowCursor: RowCursor {
    let row: PostgresRandomAccessRow

    func isNull(_ column: Int) -> Bool { row[column].bytes == nil }

    func isReal(_ column: Int) -> Bool {
        switch row[column].dataType {
        case .float4, .float8: true
        case .numeric: if case .real = PostgresBlockingConnection.value(row[column]) { true } else { false }
        default: false
        }
    }

    func int64(_ column: Int) -> Int64 {
        switch PostgresBlockingConnection.value(row[column]) {
        case .integer(let value): value
        case .real(let value): Int64(value)
        default: 0
        }
    }

    func double(_ column: Int) -> Double {
        PostgresBlockingConnection.value(row[column]).double ?? 0
    }

    func withText<T>(_ column: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> T) rethrows -> T {
        let cell = row[column]
        guard let bytes = cell.bytes else { return try body(UnsafeBufferPointer(start: nil, count: 0)) }
        switch cell.dataType {
        case .text, .varchar, .bpchar, .name:
            return try bytes.withUnsafeReadableBytes { raw in try body(raw.bindMemory(to: UInt8.self)) }
        case .json:
            // Built in the query (json_build_object, json_agg): written as compactly as SQLite
            // writes it, so both engines answer the same bytes.
            let compact = bytes.withUnsafeReadableBytes { raw in Self.compactJSON(raw.bindMemory(to: UInt8.self)) }
            return try compact.withUnsafeBufferPointer(body)
        default:
            // A number or boolean asked for as text (rare): its decimal form.
            let text = Array(PostgresBlockingConnection.value(cell).textForm.utf8)
            return try text.withUnsafeBufferPointer(body)
        }
    }

    /// JSON without the whitespace between tokens (strings kept byte for byte).
    static func compactJSON(_ text: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(text.count)
        var inString = false
        var escaped = false
        for byte in text {
            if inString {
                output.append(byte)
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\t"), UInt8(ascii: "\r"): continue
            case UInt8(ascii: "\""): inString = true; output.append(byte)
            default: output.append(byte)
            }
        }
        return output
    }

    func string(_ column: Int) -> String? {
        isNull(column) ? nil : withText(column) { String(decoding: $0, as: UTF8.self) }
    }
}
