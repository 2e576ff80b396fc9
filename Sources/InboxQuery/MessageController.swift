import Foundation
import Hummingbird
import InboxHTTP
import InboxStore

/// `/api/messages/{id}` and `/api/search`: one message with its receipts, and full-text search.
public struct MessageController<Context: AuthorizedRequestContext>: Sendable {
    let pool: ReadPool

    public init(pool: ReadPool) { self.pool = pool }

    public func addRoutes(to router: some RouterMethods<Context>) {
        router.get("/api/messages/:messageId") { _, context in
            try await show(context.pathParameter("messageId"), scope: context.sessionScope())
        }
        router.get("/api/search") { request, context in try await search(request, scope: context.sessionScope()) }
    }

    /// The message, its ack history, and its `data` object exactly as stored. Another session's
    /// message is not found, exactly as a missing one.
    func show(_ messageId: String, scope: SessionScope) async throws -> Response {
        let message = ReadModels.messageWithData
        let body = try await pool.read { db -> [UInt8]? in
            let (scoped, values) = scope.restriction(on: "m.session_id")
            var json = JSONWriter()
            var rowId: Int64?
            try json.object { json in
                json.key("data")
                try json.object { json in
                    json.key("message")  // with `data` as stored, with the gateway's own key names
                    try db.forEachRow("SELECT \(message.selectList(db.dialect)) FROM messages m WHERE m.message_id = ?\(scoped)",
                                      arguments: [messageId] + values) { row in
                        guard rowId == nil else { return }
                        message.write(row, to: &json)
                        rowId = row.int64(message.column("id"))
                    }
                    json.key("acks")
                    try json.array { json in
                        try db.forEachRow(
                            "SELECT \(ReadModels.ack.selectList(db.dialect)) FROM message_acks WHERE message_id = ? ORDER BY id", arguments: [rowId ?? -1]
                        ) { row in ReadModels.ack.write(row, to: &json) }
                    }
                }
            }
            return rowId == nil ? nil : json.bytes
        }
        guard let body else { throw QueryError.notFound("message \(messageId)") }
        return .json(bytes: body)
    }

    /// FTS5 search over message bodies, newest first. User text is split into words and each is
    /// quoted, so FTS syntax (quotes, `*`, `NEAR`, `-`, parentheses) is only ever searched for.
    func search(_ request: Request, scope: SessionScope) async throws -> Response {
        let page = try PageRequest(request, keyParts: 1)
        guard let q = try request.parameter("q", maxLength: 200) else {
            throw QueryError.badParameter("q", "is required")
        }
        // Every parameter is checked before anything is answered, the empty answer included.
        let (session, contact) = (try request.parameter("session"), try request.parameter("contact"))
        let after = page.after == nil ? nil : try page.int(0)
        // Text without letters or digits (`÷`, `!!`) has no words: it finds nothing.
        guard let match = Self.ftsQuery(q) else {
            return .json(bytes: Array(#"{"data":[],"next_cursor":null}"#.utf8))
        }
        var query: SelectQuery
        // SQLite pages by the full-text table's rowid (its own order, no sort); PostgreSQL by the message id.
        let key: String
        if pool.dialect.engine == .sqlite {
            key = "messages_fts.rowid"
            query = SelectQuery("FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid WHERE messages_fts MATCH ?", match)
        } else {
            key = "m.id"
            // The GIN index over inbox_search_words(body); the words folded by the same function.
            query = SelectQuery(
                """
                FROM (SELECT tsvector_to_array(inbox_search_words(?)) AS words) AS search, messages m
                WHERE inbox_search_words(m.body) @@ plainto_tsquery('simple', array_to_string(search.words, ' '))
                """, q
            )
        }
        query.and("m.session_id = ?", ifPresent: session)
        query.scoped("m.session_id", to: scope)
        query.and("m.contact = ?", ifPresent: contact)
        if let after { query.and("\(key) < ?", after) }
        return try await query.page(pool, ReadModels.searchHit, orderBy: "\(key) DESC", limit: page.limit, cursor: ["id"])
    }

    /// `"word1" "word2"`: every word must appear (accents and case folded by the tokenizer).
    static func ftsQuery(_ text: String) -> String? {
        let words = text.split { !($0.isLetter || $0.isNumber) }.prefix(16)
        guard !words.isEmpty else { return nil }
        return words.map { "\"\($0)\"" }.joined(separator: " ")
    }
}

/// Search snippets as safe HTML: FTS5 marks the hits with two private-use characters, the text is
/// HTML-escaped, and only then do the marks become `<mark>` tags. A client may insert the snippet
/// as HTML; a message body can never inject markup through it.
enum Snippet {
    static let open = "\u{E000}"
    static let close = "\u{E001}"

    static func html(_ marked: String) -> String {
        var html = ""
        html.reserveCapacity(marked.utf8.count + 32)
        for character in marked.unicodeScalars {
            switch character {
            case "&": html += "&amp;"
            case "<": html += "&lt;"
            case ">": html += "&gt;"
            case "\"": html += "&quot;"
            case "'": html += "&#39;"
            case "\u{E000}": html += "<mark>"
            case "\u{E001}": html += "</mark>"
            default: html.unicodeScalars.append(character)
            }
        }
        return html
    }
}
