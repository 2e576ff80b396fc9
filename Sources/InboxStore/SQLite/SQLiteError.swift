import CSQLite

/// A failure reported by SQLite, with its result code so callers can tell "try again later"
/// (busy, full, read-only) from a bug.
public struct SQLiteError: Error, CustomStringConvertible, Sendable {
    /// The extended SQLite result code.
    public let code: Int32
    /// SQLite's message, which names the table or constraint involved.
    public let message: String

    public init(code: Int32, message: String) {
        self.code = code
        self.message = message
    }

    /// The primary result code (the low byte of the extended code).
    public var primaryCode: Int32 { code & 0xFF }

    /// True when the database cannot take the write right now but might later: the sender should
    /// retry rather than be told its data is wrong.
    public var isTransient: Bool {
        switch primaryCode {
        case SQLITE_BUSY, SQLITE_LOCKED, SQLITE_FULL, SQLITE_READONLY, SQLITE_IOERR, SQLITE_CANTOPEN,
             SQLITE_NOMEM, SQLITE_PROTOCOL:
            return true
        default:
            return false
        }
    }

    public var description: String { "SQLite error \(code): \(message)" }
}
