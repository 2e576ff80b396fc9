/// The connection the write side runs its statements on, whatever the engine.
///
/// The event-application rules, the writer and housekeeping are written once against this: SQL
/// in the subset both engines read alike (`?` parameters, `ON CONFLICT`, `IS NOT DISTINCT FROM`),
/// and the few places where the engines differ go through `dialect`. A connection belongs to one
/// thread at a time and its calls block that thread (the writer's own, never a cooperative one).
public protocol SQLDatabase: AnyObject {
    /// What this engine spells differently.
    var dialect: SQLDialect { get }
    /// Runs a statement for its effect and returns the number of rows it changed.
    @discardableResult
    func run(_ sql: String, arguments: [any SQLBindable]) throws -> Int
    /// Runs a statement for its effect when the caller reads nothing back, not even a count.
    ///
    /// SQLite runs it at once. PostgreSQL sends it without waiting for its answer, so the rules'
    /// writes do not each cost a round trip: later statements run after it, in order, and see its
    /// effect; a failure is thrown by the next call that waits (any `run`, query, savepoint or the
    /// commit), never lost, and never lets the transaction commit.
    func write(_ sql: String, arguments: [any SQLBindable]) throws
    /// Runs a query and returns all of its rows.
    func query(_ sql: String, arguments: [any SQLBindable]) throws -> [SQLRow]
    /// Runs a query and hands each row to `body` in place (the cheapest way to turn rows into a
    /// response); the cursor is valid only during the call.
    func forEachRow(_ sql: String, arguments: [any SQLBindable], _ body: (any RowCursor) throws -> Void) throws
    /// Runs a query and returns its first row, if any.
    func queryFirst(_ sql: String, arguments: [any SQLBindable]) throws -> SQLRow?
    /// Runs an `INSERT` of one row into a table with an `id` key; its id, or nil when a conflict
    /// clause skipped it.
    func insertReturningId(_ sql: String, arguments: [any SQLBindable]) throws -> Int64?
    /// Runs `body` in a transaction that takes the write lock first, rolling back if it throws.
    func transaction<T>(_ body: () throws -> T) throws -> T
    /// Runs `body` in a named savepoint: its changes vanish if it throws, the transaction goes on.
    func savepoint<T>(_ name: String, _ body: () throws -> T) throws -> T
}

extension SQLDatabase {
    @discardableResult
    public func run(_ sql: String, _ arguments: any SQLBindable...) throws -> Int {
        try run(sql, arguments: arguments)
    }

    public func write(_ sql: String, _ arguments: any SQLBindable...) throws {
        try write(sql, arguments: arguments)
    }

    public func query(_ sql: String, _ arguments: any SQLBindable...) throws -> [SQLRow] {
        try query(sql, arguments: arguments)
    }

    public func queryFirst(_ sql: String, _ arguments: any SQLBindable...) throws -> SQLRow? {
        try query(sql, arguments: arguments).first
    }

    public func insertReturningId(_ sql: String, _ arguments: any SQLBindable...) throws -> Int64? {
        try insertReturningId(sql, arguments: arguments)
    }

    /// Both engines spell savepoints alike.
    public func savepoint<T>(_ name: String, _ body: () throws -> T) throws -> T {
        try run("SAVEPOINT \(name)")
        do {
            let result = try body()
            try run("RELEASE \(name)")
            return result
        } catch {
            _ = try? run("ROLLBACK TO \(name)")
            _ = try? run("RELEASE \(name)")
            throw error
        }
    }
}

/// A database failure either engine reports, classified once: transient failures (busy, full,
/// unreachable, a lost serialization race) mean "the same batch may succeed later", everything
/// else is a fault of the data or the code.
public protocol DatabaseError: Error {
    var isTransient: Bool { get }
    /// The statement ran past the read's time limit and was stopped.
    var wasInterrupted: Bool { get }
}

extension SQLiteError: DatabaseError {
    public var wasInterrupted: Bool { primaryCode == 9 /* SQLITE_INTERRUPT */ }
}
