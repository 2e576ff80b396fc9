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
        case .text, .varchar, .bpchar, .name, .json:
            return try bytes.withUnsafeReadableBytes { raw in try body(raw.bindMemory(to: UInt8.self)) }
        default:
            // A number or boolean asked for as text (rare): its decimal form.
            let text = Array(PostgresBlockingConnection.value(cell).textForm.utf8)
            return try text.withUnsafeBufferPointer(body)
        }
    }

    func string(_ column: Int) -> String? {
        isNull(column) ? nil : withText(column) { String(decoding: $0, as: UTF8.self) }
    }
}

extension SQLValue {
    /// The value as SQLite would give it as text.
    var textForm: String {
        switch self {
        case .null: ""
        case .integer(let value): "\(value)"
        case .real(let value): "\(value)"
        case .text(let value): value
        case .blob(let bytes): String(decoding: bytes, as: UTF8.self)
        }
    }
}
