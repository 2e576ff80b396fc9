import Hummingbird
import InboxStore

/// `/api/conversations`: the inbox list (one row per session and chat, newest activity first) and
/// each chat's thread.
public struct ConversationController<Context: RequestContext>: Sendable {
    let pool: ReadPool

    public init(pool: ReadPool) { self.pool = pool }

    public func addRoutes(to router: Router<Context>) {
        router.get("/api/conversations") { request, _ in try await list(request) }
        router.get("/api/conversations/:sessionId/:whatsappId/messages") { request, context in
            try await thread(request, session: context.pathParameter("sessionId"), chat: context.pathParameter("whatsappId"))
        }
    }

    /// Reads the writer-maintained `conversations` summary: no GROUP BY over messages.
    func list(_ request: Request) async throws -> Response {
        let page = try PageRequest(request, keyParts: 2)
        let session = try request.parameter("session")
        var sql = """
            SELECT \(ConversationView.columns) FROM conversations c
            JOIN messages m ON m.id = c.last_message_id
            LEFT JOIN contacts k ON k.whatsapp_id = c.contact
            WHERE 1
            """
        var arguments: [any SQLiteBindable] = []
        if let session {
            sql += " AND c.session_id = ?"
            arguments.append(session)
        }
        if page.after != nil {
            sql += " AND (c.last_activity_at < ? OR (c.last_activity_at = ? AND c.id < ?))"
            arguments += [try page.int(0), try page.int(0), try page.int(1)]
        }
        sql += " ORDER BY c.last_activity_at DESC, c.id DESC LIMIT ?"
        arguments.append(page.limit + 1)
        let (text, boxed) = (sql, BindableList(arguments))
        let rows = try await pool.read { db in try db.query(text, arguments: boxed.values).map(ConversationView.init) }
        return QueryResponse.json(Page(fetched: rows, limit: page.limit) { [String($0.lastActivityAt), String($0.id)] })
    }

    /// A chat's messages, newest first (`order=asc` for oldest first), optionally only those
    /// `before` / `after` a unix time.
    func thread(_ request: Request, session: String, chat: String) async throws -> Response {
        let page = try PageRequest(request, keyParts: 2)
        let before = try request.integerParameter("before")
        let after = try request.integerParameter("after")
        let ascending: Bool
        switch try request.parameter("order") {
        case nil, "desc": ascending = false
        case "asc": ascending = true
        default: throw QueryError.badParameter("order", "must be asc or desc")
        }
        var sql = "SELECT \(MessageView.columns("m")) FROM messages m WHERE m.session_id = ? AND m.contact = ?"
        var arguments: [any SQLiteBindable] = [session, chat]
        if let before {
            sql += " AND m.timestamp < ?"
            arguments.append(before)
        }
        if let after {
            sql += " AND m.timestamp > ?"
            arguments.append(after)
        }
        if page.after != nil {
            let (time, id) = (try page.int(0), try page.int(1))
            sql += ascending
                ? " AND (m.timestamp > ? OR (m.timestamp = ? AND m.id > ?))"
                : " AND (m.timestamp < ? OR (m.timestamp = ? AND m.id < ?))"
            arguments += [time, time, id]
        }
        sql += ascending ? " ORDER BY m.timestamp, m.id LIMIT ?" : " ORDER BY m.timestamp DESC, m.id DESC LIMIT ?"
        arguments.append(page.limit + 1)
        let (text, boxed) = (sql, BindableList(arguments))
        let messages = try await pool.read { db in try db.query(text, arguments: boxed.values).map { MessageView($0) } }
        return QueryResponse.json(Page(fetched: messages, limit: page.limit) { [String($0.timestamp ?? 0), String($0.id)] })
    }
}
