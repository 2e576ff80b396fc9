import InboxStore

/// One event of the inbox's log as forwarding sends it and the normalised stream shows it.
public struct InboxEventRecord: Sendable {
    public let seq: Int64
    public let type: String
    /// "" for an event without a session.
    public let sessionId: String
    /// The chat's JID; "" for a session-wide event. Events of one (session, chat) stay in order.
    public let chat: String
    /// The event as JSON: `{"id","seq","type","occurred_at",…,"message":{…}}`.
    public let json: [UInt8]
}

/// The inbox's event log (`inbox_events`), read into the JSON every consumer gets: one model, so
/// a forwarded event and a streamed one are the same bytes.
///
/// A message event carries the message as `GET /api/messages/{id}` shows it (without the
/// gateway's own `data`), read when the event is read: a late reader sees the message's current
/// text and status, and what this event changed is in its own member (`ack`, `reaction`, `edit`,
/// `deletion`).
public enum InboxEventLog {
    static let model = ReadModel([
        // evt_<event_log_id>_<seq>: stable for the event, different in another database.
        Field("id", "'evt_' || (SELECT value FROM store_state WHERE name = 'event_log_id') || '_' || e.seq", .text),
        Field("seq", .integer, table: "e"),
        Field("type", .text, table: "e"),
        Field("occurred_at", .text, table: "e"),
        Field("recorded_at", .text, table: "e"),
        Field("session_id", .optionalText, table: "e"),
        Field("chat", .optionalText, table: "e"),
        Field("delivery_id", .integer, table: "e"),
        Field("detail", "e.detail", .members),
        Field("message", .optionalObject(ReadModels.messageFields("m"))) { _ in "" },
    ])

    /// Events after `after`, oldest first, at most `limit`, of the sessions `scope` allows and of
    /// `types` (nil: all). `scannedThrough` is the last seq looked at: a reader that continues
    /// from there skips only events that were filtered out.
    public static func read(in db: any ReadConnection, after: Int64, limit: Int, scope: SessionScope = .everySession,
                            types: Set<String>? = nil) throws -> (events: [InboxEventRecord], scannedThrough: Int64) {
        // Up to the head read first: on PostgreSQL seqs become visible in order (taken under the
        // writer's lock), so nothing at or below it can still appear.
        let head = try self.head(in: db)
        guard head > after else { return ([], after) }
        let (filtered, values) = filter(scope: scope, types: types, table: "e")
        let events = try records(in: db, where: "e.seq > ? AND e.seq <= ?\(filtered)", arguments: [after, head] + values, limit: limit)
        let scannedThrough = events.count == limit ? events[events.count - 1].seq : head
        return (events, scannedThrough)
    }

    /// ` AND …` keeping the events of the sessions `scope` allows and of `types` (nil: all; none:
    /// nothing), on the `inbox_events` of alias `table`.
    static func filter(scope: SessionScope, types: Set<String>?, table: String) -> (sql: String, values: [any SQLBindable]) {
        var (sql, values) = scope.restriction(on: "\(table).session_id")
        if let types {
            let sorted = types.sorted()
            sql += sorted.isEmpty ? " AND \(table).type IS NULL" : " AND \(table).type IN (\(sorted.map { _ in "?" }.joined(separator: ", ")))"
            values += sorted as [any SQLBindable]
        }
        return (sql, values)
    }

    /// The events with these seqs, in seq order (a seq that is not in the log is left out).
    public static func read(in db: any ReadConnection, seqs: [Int64]) throws -> [InboxEventRecord] {
        guard !seqs.isEmpty else { return [] }
        return try records(in: db, where: "e.seq IN (\(seqs.map { _ in "?" }.joined(separator: ", ")))", arguments: seqs, limit: seqs.count)
    }

    private static func records(in db: any ReadConnection, where condition: String, arguments: [any SQLBindable], limit: Int) throws
        -> [InboxEventRecord]
    {
        let sql = """
            SELECT \(model.selectList(db.dialect)) FROM inbox_events e LEFT JOIN messages m ON m.id = e.message_id
            WHERE \(condition) ORDER BY e.seq LIMIT ?
            """
        var json = JSONWriter()
        var spans: [(seq: Int64, type: String, session: String, chat: String, range: Range<Int>)] = []
        let (seqColumn, typeColumn) = (model.column("seq"), model.column("type"))
        let (sessionColumn, chatColumn) = (model.column("session_id"), model.column("chat"))
        try db.forEachRow(sql, arguments: arguments + [limit]) { row in
            json.startDocument()
            let start = json.byteCount
            model.write(row, to: &json)
            spans.append((row.int64(seqColumn), row.string(typeColumn) ?? "", row.string(sessionColumn) ?? "", row.string(chatColumn) ?? "",
                          start..<json.byteCount))
        }
        return spans.map {
            InboxEventRecord(seq: $0.seq, type: $0.type, sessionId: $0.session, chat: $0.chat, json: json.bytes($0.range))
        }
    }

    /// The newest event's seq (0 for none).
    public static func head(in db: any ReadConnection) throws -> Int64 {
        Int64(try db.queryFirst("SELECT max(seq) FROM inbox_events", arguments: [])?.int(0) ?? 0)
    }
}

/// The inbox's event log as a live stream's source (`/api/inbox-events`): id = seq, event = type,
/// data = the event's JSON, exactly what forwarding sends.
public struct InboxEventSource: EventLogSource {
    public init() {}

    public func events(in db: any ReadConnection, after: Int64, scope: SessionScope, limit: Int) throws -> [LiveEvent] {
        // The filters are in the query: a page shorter than `limit` reached the head.
        try InboxEventLog.read(in: db, after: after, limit: limit, scope: scope).events.map {
            LiveEvent(id: $0.seq, event: $0.type, sessionId: $0.sessionId.isEmpty ? nil : $0.sessionId,
                      body: String(decoding: $0.json, as: UTF8.self))
        }
    }

    public func head(in db: any ReadConnection) throws -> Int64 {
        try InboxEventLog.head(in: db)
    }

    public func horizon(in db: any ReadConnection) throws -> Int64 { 0 }
}
