import Hummingbird
import InboxHTTP
import InboxStore

/// `/api/conversations`: the inbox list (one row per session and chat, newest activity first) and
/// each chat's thread.
public struct ConversationController<Context: AuthorizedRequestContext>: Sendable {
    let pool: ReadPool

    public init(pool: ReadPool) { self.pool = pool }

    public func addRoutes(to router: some RouterMethods<Context>) {
        router.get("/api/conversations") { request, context in try await list(request, scope: context.sessionScope()) }
        router.get("/api/conversations/:sessionId/:whatsappId/messages") { request, context in
            try await thread(request, session: context.pathParameter("sessionId"), chat: context.pathParameter("whatsappId"),
                             scope: context.sessionScope())
        }
    }

    /// Reads the writer-maintained `conversations` summary: no GROUP BY over messages.
    func list(_ request: Request, scope: SessionScope) async throws -> Response {
        let page = try PageRequest(request, keyParts: 2)
        let session = try request.parameter("session")
        var query = SelectQuery("""
            FROM conversations c
            JOIN messages m ON m.id = c.last_message_id
            LEFT JOIN contacts k ON k.session_id = c.session_id AND k.whatsapp_id = c.contact
            WHERE true
            """)
        query.and("c.session_id = ?", ifPresent: session)
        query.scoped("c.session_id", to: scope)
        if page.after != nil {
            let (time, id) = (try page.int(0), try page.int(1))
            query.and("(c.last_activity_at < ? OR (c.last_activity_at = ? AND c.id < ?))", time, time, id)
        }
        return try await query.page(
            pool, ReadModels.conversation, orderBy: "c.last_activity_at DESC, c.id DESC", limit: page.limit,
            cursor: ["last_activity_at", "id"]
        )
    }

    /// A chat's messages, newest first (`order=asc` for oldest first), optionally only those
    /// `before` / `after` a unix time. Another session's chat is an empty page, exactly as a chat
    /// with no messages.
    func thread(_ request: Request, session: String, chat: String, scope: SessionScope) async throws -> Response {
        let page = try PageRequest(request, keyParts: 2)
        let before = try request.unixTimeParameter("before")
        let after = try request.unixTimeParameter("after")
        let ascending = try request.choiceParameter("order", ["asc", "desc"]) == "asc"
        // A chat is found by any identifier of its contact: a CRM that stored a @lid or an old
        // number still reaches the merged conversation.
        var query = SelectQuery(
            """
            FROM messages m WHERE m.session_id = ? AND m.contact = COALESCE(
                \(ReadModels.contactColumn("whatsapp_id", session: "?", identifier: "?")), ?)
            """, session, session, chat, chat
        )
        query.scoped("m.session_id", to: scope)
        if let before { query.and("m.timestamp < ?", before) }
        if let after { query.and("m.timestamp > ?", after) }
        if page.after != nil {
            let (time, id) = (try page.int(0), try page.int(1))
            query.and(ascending
                ? "(m.timestamp > ? OR (m.timestamp = ? AND m.id > ?))"
                : "(m.timestamp < ? OR (m.timestamp = ? AND m.id < ?))", time, time, id)
        }
        return try await query.page(
            pool, ReadModels.message, orderBy: ascending ? "m.timestamp, m.id" : "m.timestamp DESC, m.id DESC",
            limit: page.limit, cursor: ["timestamp", "id"]
        )
    }
}
