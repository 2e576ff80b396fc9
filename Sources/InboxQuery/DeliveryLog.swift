import InboxStore

/// A log a live stream follows: its events in id order after a position, and its head.
/// `/api/events` follows the delivery log, `/api/inbox-events` the inbox's event log.
public protocol EventLogSource: Sendable {
    func events(in db: any ReadConnection, after: Int64, scope: SessionScope, limit: Int) throws -> [LiveEvent]
    func head(in db: any ReadConnection) throws -> Int64
    /// The lowest id a client may resume after (older ones are gone): 0 when all are kept.
    func horizon(in db: any ReadConnection) throws -> Int64
}

/// The delivery log read as the live stream's events: the stream's backlog (`Last-Event-ID`) and,
/// with several nodes, every node's live events come from here, so what a client sees never
/// depends on which node it asked.
public struct DeliveryLog: EventLogSource {
    public init() {}

    public func events(in db: any ReadConnection, after: Int64, scope: SessionScope, limit: Int) throws -> [LiveEvent] {
        try Self.events(in: db, after: after, scope: scope, limit: limit)
    }

    public func head(in db: any ReadConnection) throws -> Int64 {
        try Self.head(in: db)
    }

    /// Retention empties old bodies: a stream cannot resume before them.
    public func horizon(in db: any ReadConnection) throws -> Int64 {
        Int64(try db.queryFirst("SELECT value FROM store_state WHERE name = 'bodies_removed_through_id'", arguments: [])?.int(0) ?? 0)
    }

    /// Applied deliveries of streamed events after `after`, oldest first, at most `limit`, each
    /// followed by the contact merges it caused (as they were sent live).
    public static func events(in db: any ReadConnection, after: Int64, scope: SessionScope, limit: Int) throws -> [LiveEvent] {
        let (scoped, values) = scope.restriction(on: "session_id")
        let sql = """
            SELECT id, inbox_event, session_id, body FROM webhook_deliveries
            WHERE id > ? AND status = 'applied' AND inbox_event IS NOT NULL\(scoped) ORDER BY id LIMIT ?
            """
        let deliveries = try db.query(sql, arguments: [after] + values + [limit]).map {
            LiveEvent(id: Int64($0.int(0) ?? 0), event: $0.string(1) ?? "", sessionId: $0.string(2), body: $0.string(3) ?? "")
        }
        guard let first = deliveries.first?.id, let last = deliveries.last?.id else { return deliveries }
        var merges: [Int64: [LiveEvent]] = [:]
        for row in try db.query(
            """
            SELECT delivery_id, session_id, contact_id, whatsapp_id, merged_whatsapp_id, reason FROM contact_merges
            WHERE delivery_id BETWEEN ? AND ? ORDER BY id
            """,
            arguments: [first, last]
        ) {
            let deliveryId = Int64(row.int(0) ?? 0)
            let merge = ContactMerge(sessionId: row.string(1) ?? "", contactId: Int64(row.int(2) ?? 0), whatsappId: row.string(3) ?? "",
                                     mergedWhatsappId: row.string(4) ?? "", reason: row.string(5) ?? "")
            merges[deliveryId, default: []].append(LiveEvent.contactMerged(merge, deliveryId: deliveryId))
        }
        return deliveries.flatMap { [$0] + (merges[$0.id] ?? []) }
    }

    /// The newest delivery's id (0 for none): where a follower of the log starts.
    public static func head(in db: any ReadConnection) throws -> Int64 {
        Int64(try db.queryFirst("SELECT max(id) FROM webhook_deliveries", arguments: [])?.int(0) ?? 0)
    }
}
