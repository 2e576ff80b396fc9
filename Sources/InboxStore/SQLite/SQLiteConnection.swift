import CSQLite
import Foundation

/// One SQLite connection with a cache of prepared statements.
///
/// Not thread-safe by design: a connection belongs to exactly one thread at a time (the writer
/// thread, or one reader). SQLite is opened in "multi-thread" mode, so it does no locking of its own.
public final class SQLiteConnection: SQLDatabase {
    private var handle: OpaquePointer?
    private var statements: [String: OpaquePointer] = [:]
    /// The file this connection was opened on.
    public let path: String

    /// Opens (and, for a writer, creates) the database at `path`.
    /// - Parameter readOnly: opens with `SQLITE_OPEN_READONLY` and `PRAGMA query_only`, so the
    ///   connection cannot write even by mistake.
    /// - Parameter vfs: the name of a registered VFS to open the file with; nil for the default.
    /// Internal: other modules get connections from `InboxDatabase.openReader` or `StoreOwner`.
    init(path: String, readOnly: Bool = false, vfs: String? = nil) throws {
        // The process-wide settings must come before SQLite initialises, whoever opens first.
        _ = InboxDatabase.libraryConfiguration
        self.path = path
        var flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI
        flags |= readOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
        var db: OpaquePointer?
        let rc = sqlite3_open_v2(path, &db, flags, vfs)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open database"
            sqlite3_close_v2(db)
            throw SQLiteError(code: rc, message: "\(message) (\(path))")
        }
        handle = db
        sqlite3_extended_result_codes(db, 1)
        if readOnly {
            try execute("PRAGMA query_only = ON")
        }
    }

    deinit {
        for statement in statements.values {
            sqlite3_finalize(statement)
        }
        sqlite3_close_v2(handle)
    }

    /// Runs one or more SQL statements that return no rows (pragmas, migrations, BEGIN/COMMIT).
    public func execute(_ sql: String) throws {
        var error: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &error)
        if rc != SQLITE_OK {
            let message = error.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(handle))
            sqlite3_free(error)
            throw SQLiteError(code: sqlite3_extended_errcode(handle), message: message)
        }
    }

    public let dialect = SQLDialect.sqlite

    /// Runs a statement for its effect, ignoring any rows; returns the number of rows changed.
    @discardableResult
    public func run(_ sql: String, arguments: [any SQLBindable]) throws -> Int {
        try withStatement(sql, arguments) { statement in
            while try step(statement) {}
        }
        return Int(sqlite3_changes(handle))
    }

    /// SQLite has no round trip to save: the statement runs now.
    public func write(_ sql: String, arguments: [any SQLBindable]) throws {
        try run(sql, arguments: arguments)
    }

    /// Runs a query with an argument array and returns all of its rows.
    public func query(_ sql: String, arguments: [any SQLBindable]) throws -> [SQLRow] {
        try withStatement(sql, arguments) { statement in
            var rows: [SQLRow] = []
            while try step(statement) {
                rows.append(readRow(statement))
            }
            return rows
        }
    }

    /// Runs a query and hands each row to `body` in place, without copying its values: the
    /// cheapest way to turn rows into a response. The row is valid only during the call.
    public func forEachRow(_ sql: String, arguments: [any SQLBindable], _ body: (any RowCursor) throws -> Void) throws {
        try forEachSQLiteRow(sql, arguments: arguments, body)
    }

    /// `forEachRow` with SQLite's own cursor, for callers that know the engine (no dynamic calls per cell).
    public func forEachSQLiteRow(_ sql: String, arguments: [any SQLBindable], _ body: (SQLiteRowCursor) throws -> Void) throws {
        try withStatement(sql, arguments) { statement in
            let cursor = SQLiteRowCursor(statement: statement)
            while try step(statement) {
                try body(cursor)
            }
        }
    }

    /// Runs a query with an argument array and returns its first row, if any.
    public func queryFirst(_ sql: String, arguments: [any SQLBindable]) throws -> SQLRow? {
        try withStatement(sql, arguments) { statement in
            try step(statement) ? readRow(statement) : nil
        }
    }

    /// Makes what this connection wrote to the database file durable (`fdatasync`).
    public func syncDatabaseFile() throws {
        let rc = csqlite_sync_database_file(handle)
        guard rc == SQLITE_OK else { throw SQLiteError(code: rc, message: "syncing \(path) failed") }
    }

    /// The rowid of the row the statement inserted; nil when it inserted none.
    public func insertReturningId(_ sql: String, arguments: [any SQLBindable]) throws -> Int64? {
        try run(sql, arguments: arguments) == 1 ? sqlite3_last_insert_rowid(handle) : nil
    }

    /// Runs `body` inside `BEGIN IMMEDIATE … COMMIT`, rolling back if it throws.
    ///
    /// IMMEDIATE takes the write lock up front, so a busy database fails here (and is retried by
    /// the busy timeout) rather than halfway through the work.
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        try run("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try run("COMMIT")
            return result
        } catch {
            _ = try? run("ROLLBACK")
            throw error
        }
    }

    /// Copies this connection's database into a new file at `path` with SQLite's online backup
    /// API, in one step: the copy is read from one snapshot. In WAL mode that read never blocks
    /// the writer; the file at `path` is created or overwritten.
    public func backup(to path: String) throws {
        var destination: OpaquePointer?
        let rc = sqlite3_open_v2(path, &destination, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nil)
        defer { sqlite3_close_v2(destination) }
        guard rc == SQLITE_OK, let destination else {
            throw SQLiteError(code: rc, message: "cannot create \(path)")
        }
        guard let backup = sqlite3_backup_init(destination, "main", handle, "main") else {
            throw SQLiteError(code: sqlite3_extended_errcode(destination), message: String(cString: sqlite3_errmsg(destination)))
        }
        let step = sqlite3_backup_step(backup, -1)
        let finish = sqlite3_backup_finish(backup)
        guard step == SQLITE_DONE, finish == SQLITE_OK else {
            throw SQLiteError(code: step == SQLITE_DONE ? finish : step, message: String(cString: sqlite3_errmsg(destination)))
        }
    }

    /// Installs a progress handler that aborts any statement once `deadline` returns true; used to
    /// put a time limit on reads. Pass nil to remove it.
    ///
    /// (`withTimeLimit` is the query side's way to use it.)
    public func setInterrupt(every instructions: Int32 = 10_000, when deadline: (() -> Bool)?) {
        guard let deadline else {
            sqlite3_progress_handler(handle, 0, nil, nil)
            progressBox = nil
            return
        }
        let box = ProgressBox(deadline)
        progressBox = box
        sqlite3_progress_handler(handle, instructions, { context in
            guard let context else { return 0 }
            let box = Unmanaged<ProgressBox>.fromOpaque(context).takeUnretainedValue()
            return box.check() ? 1 : 0
        }, Unmanaged.passUnretained(box).toOpaque())
    }

    private var progressBox: ProgressBox?

    private final class ProgressBox {
        let check: () -> Bool
        init(_ check: @escaping () -> Bool) { self.check = check }
    }

    // MARK: - Statements

    private func withStatement<T>(
        _ sql: String, _ arguments: [any SQLBindable], _ body: (OpaquePointer) throws -> T
    ) throws -> T {
        let statement = try prepared(sql)
        defer {
            sqlite3_reset(statement)
            sqlite3_clear_bindings(statement)
        }
        try bind(arguments, to: statement)
        return try body(statement)
    }

    private func prepared(_ sql: String) throws -> OpaquePointer {
        if let statement = statements[sql] {
            return statement
        }
        var statement: OpaquePointer?
        let rc = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard rc == SQLITE_OK, let statement else {
            throw lastError(rc)
        }
        statements[sql] = statement
        return statement
    }

    private func bind(_ arguments: [any SQLBindable], to statement: OpaquePointer) throws {
        for (offset, argument) in arguments.enumerated() {
            let index = Int32(offset + 1)
            let rc: Int32
            switch argument.sqlValue {
            case .null:
                rc = sqlite3_bind_null(statement, index)
            case .integer(let value):
                rc = sqlite3_bind_int64(statement, index, value)
            case .real(let value):
                rc = sqlite3_bind_double(statement, index, value)
            case .text(var value):
                // With the byte count, not -1: SQLite would stop at the first NUL.
                rc = value.withUTF8 { utf8 in
                    sqlite3_bind_text(statement, index, utf8.baseAddress.map { UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self) },
                                      Int32(utf8.count), csqlite_transient())
                }
            case .blob(let value):
                rc = value.withUnsafeBytes { buffer in
                    sqlite3_bind_blob(statement, index, buffer.baseAddress, Int32(buffer.count), csqlite_transient())
                }
            }
            guard rc == SQLITE_OK else { throw lastError(rc) }
        }
    }

    /// Advances the statement; true while it yields a row.
    private func step(_ statement: OpaquePointer) throws -> Bool {
        switch sqlite3_step(statement) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        case let rc: throw lastError(rc)
        }
    }

    private func readRow(_ statement: OpaquePointer) -> SQLRow {
        let count = sqlite3_column_count(statement)
        var values: [SQLValue] = []
        values.reserveCapacity(Int(count))
        for column in 0..<count {
            switch sqlite3_column_type(statement, column) {
            case SQLITE_INTEGER:
                values.append(.integer(sqlite3_column_int64(statement, column)))
            case SQLITE_FLOAT:
                values.append(.real(sqlite3_column_double(statement, column)))
            case SQLITE_TEXT:
                values.append(.text(SQLiteRowCursor(statement: statement).withText(Int(column)) { String(decoding: $0, as: UTF8.self) }))
            case SQLITE_BLOB:
                let length = Int(sqlite3_column_bytes(statement, column))
                if let pointer = sqlite3_column_blob(statement, column), length > 0 {
                    values.append(.blob(Array(UnsafeRawBufferPointer(start: pointer, count: length))))
                } else {
                    values.append(.blob([]))
                }
            default:
                values.append(.null)
            }
        }
        return SQLRow(values: values)
    }

    private func lastError(_ rc: Int32) -> SQLiteError {
        let code = handle.map { sqlite3_extended_errcode($0) } ?? rc
        let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "SQLite error"
        return SQLiteError(code: code == 0 ? rc : code, message: message)
    }
}

/// The current row of a running statement, read in place (see `SQLiteConnection.forEachRow`).
public struct SQLiteRowCursor: RowCursor {
    let statement: OpaquePointer

    public func isNull(_ column: Int) -> Bool { sqlite3_column_type(statement, Int32(column)) == SQLITE_NULL }
    public func isReal(_ column: Int) -> Bool { sqlite3_column_type(statement, Int32(column)) == SQLITE_FLOAT }
    public func int64(_ column: Int) -> Int64 { sqlite3_column_int64(statement, Int32(column)) }
    public func double(_ column: Int) -> Double { sqlite3_column_double(statement, Int32(column)) }

    /// The column's text as UTF-8 bytes (by byte count: text may contain NUL), valid during `body`.
    public func withText<T>(_ column: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> T) rethrows -> T {
        let length = Int(sqlite3_column_bytes(statement, Int32(column)))
        guard let pointer = sqlite3_column_text(statement, Int32(column)), length > 0 else {
            return try body(UnsafeBufferPointer(start: nil, count: 0))
        }
        return try body(UnsafeBufferPointer(start: pointer, count: length))
    }

    public func string(_ column: Int) -> String? {
        isNull(column) ? nil : withText(column) { String(decoding: $0, as: UTF8.self) }
    }
}

extension SQLiteConnection: ReadConnection {
    /// SQLite's progress handler checks the deadline every 10,000 instructions.
    public func withTimeLimit<T>(_ limit: Double, _ body: () throws -> T) throws -> T {
        let deadline = Date().addingTimeInterval(limit)
        setInterrupt { Date() > deadline }
        defer { setInterrupt(when: nil) }
        return try body()
    }
}
