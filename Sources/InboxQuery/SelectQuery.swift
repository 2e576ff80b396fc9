import Hummingbird
import InboxStore

/// A list query under construction: FROM and a base WHERE, `AND` conditions with their arguments,
/// then a keyset order and a row cap; the read model supplies the column list. Each controller
/// states only what is particular to it.
struct SelectQuery: @unchecked Sendable {
    // Arguments are built on the request's task and read unchanged on the pool thread.
    private var sql: String
    private var arguments: [any SQLBindable]

    /// `base` is `FROM … WHERE …` (`WHERE true` when there is nothing else to filter on).
    init(_ base: String, _ arguments: any SQLBindable...) {
        sql = base
        self.arguments = arguments
    }

    /// Adds `AND condition` with its arguments.
    mutating func and(_ condition: String, _ values: any SQLBindable...) {
        sql += " AND " + condition
        arguments += values
    }

    /// Keeps only rows of sessions the token may see (`column` names the row's session).
    mutating func scoped(_ column: String, to scope: SessionScope) {
        let (restriction, values) = scope.restriction(on: column)
        sql += restriction
        arguments += values
    }

    /// Adds `AND condition` only when the filter has a value (one `?`).
    mutating func and(_ condition: String, ifPresent value: String?) {
        if let value { and(condition, value) }
    }

    /// Runs the query as one page of `model` rows (`ORDER BY order LIMIT limit + 1`) and answers
    /// `{"data": [...], "next_cursor": ...}`, written straight from SQLite's row buffers on the
    /// read thread. `cursor` names the fields whose values on the page's last row make the cursor
    /// of the next page (there is one when the extra row came back).
    func page(_ pool: ReadPool, _ model: ReadModel, orderBy order: String, limit: Int, cursor: [String]) async throws -> Response {
        var final = self
        final.sql = "SELECT \(model.selectList(pool.dialect)) " + sql + " ORDER BY \(order) LIMIT ?"
        final.arguments.append(limit + 1)
        let keyColumns = cursor.map(model.column)
        let body = try await pool.read { [final] db -> [UInt8] in
            var json = JSONWriter()
            var written = 0
            var lastKey = [Int64](repeating: 0, count: keyColumns.count)
            var more = false
            try json.object { json in
                json.key("data")
                try json.array { json in
                    try db.forEachRow(final.sql, arguments: final.arguments) { row in
                        guard written < limit else { more = true; return }
                        model.write(row, to: &json)
                        for (index, column) in keyColumns.enumerated() { lastKey[index] = row.int64(column) }
                        written += 1
                    }
                }
                json.key("next_cursor")
                json.string(more ? Cursor.encode(lastKey.map(String.init)) : nil)  // explicit null on the last page
            }
            return json.bytes
        }
        return .json(bytes: body)
    }

    /// The first row (by `order`) as `{"data": {...}}`, or nil when there is none.
    func single(_ pool: ReadPool, _ model: ReadModel, orderBy order: String? = nil) async throws -> Response? {
        var final = self
        final.sql = "SELECT \(model.selectList(pool.dialect)) " + sql + (order.map { " ORDER BY \($0)" } ?? "") + " LIMIT 1"
        let body = try await pool.read { [final] db -> [UInt8]? in
            var json = JSONWriter()
            var found = false
            try json.object { json in
                json.key("data")
                try db.forEachRow(final.sql, arguments: final.arguments) { row in
                    model.write(row, to: &json)
                    found = true
                }
            }
            return found ? json.bytes : nil
        }
        return body.map { .json(bytes: $0) }
    }
}
