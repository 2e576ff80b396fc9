import InboxStore

/// A list query under construction: a base SELECT, `AND` conditions with their arguments, then a
/// keyset order and a row cap. Each controller states only what is particular to it.
struct SelectQuery: @unchecked Sendable {
    // Arguments are built on the request's task and read unchanged on the pool thread.
    private var sql: String
    private var arguments: [any SQLiteBindable]

    /// `base` must end in a WHERE clause (`WHERE 1` when there is nothing else to filter on).
    init(_ base: String, _ arguments: any SQLiteBindable...) {
        sql = base
        self.arguments = arguments
    }

    /// Adds `AND condition` with its arguments.
    mutating func and(_ condition: String, _ values: any SQLiteBindable...) {
        sql += " AND " + condition
        arguments += values
    }

    /// Adds `AND condition` only when the filter has a value (one `?`).
    mutating func and(_ condition: String, ifPresent value: String?) {
        if let value { and(condition, value) }
    }

    /// Runs the query with `ORDER BY order LIMIT limit` on a read-only connection.
    func fetch<Row: Sendable>(
        _ pool: ReadPool, orderBy order: String, limit: Int, _ map: @escaping @Sendable (SQLiteRow) -> Row
    ) async throws -> [Row] {
        var final = self
        final.sql += " ORDER BY \(order) LIMIT ?"
        final.arguments.append(limit)
        return try await pool.read { [final] db in try db.query(final.sql, arguments: final.arguments).map(map) }
    }
}
