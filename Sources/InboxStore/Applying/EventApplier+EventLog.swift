import Foundation
import InboxEvents

/// The kinds of change the inbox records in `inbox_events`: what forwarding sends and the
/// normalised event stream shows, the same whatever gateway the change came from.
public enum InboxEventType: String, Sendable, CaseIterable {
    case messageReceived = "message.received"
    case messageSent = "message.sent"
    /// A stored message learned more: its text or its file's description.
    case messageUpdated = "message.updated"
    case messageEdited = "message.edited"
    case messageDeleted = "message.deleted"
    /// A message's status moved up (sent → delivered → read → played, or error).
    case messageAck = "message.ack"
    /// A reaction was set, changed or removed (`emoji` null).
    case messageReaction = "message.reaction"
    /// Votes on a poll (the message's `votes` show every current vote).
    case messagePollVote = "message.poll_vote"
    case sessionStatus = "session.status"
    case sessionQR = "session.qr"
    /// A gateway's notice about the session or its account (Meta's account and template updates).
    case sessionNotice = "session.notice"
    /// Two contacts were found to be one person, or a contact was refiled under a better id.
    case contactMerged = "contact.merged"
    /// A group's subject, description or members changed.
    case groupUpdated = "group.updated"
}

/// Writing `inbox_events`: one row per change, inside the transaction (and savepoint) that
/// applies it, so an event exists exactly when its change committed.
///
/// Rows are gathered and inserted several at a time (`flushEvents`: at the transaction's end, at
/// the end of each isolated delivery's savepoint, and before any event inserted directly), in the
/// order they were logged: on PostgreSQL each statement is a round trip, and an event was one for
/// most deliveries.
extension EventApplier {
    /// An event about a stored message whose session and chat the caller knows (the common case:
    /// a new message, a receipt), with its detail already as JSON.
    func logEvent(_ type: InboxEventType, message rowId: Int64, in chat: ChatKey, deliveryId: Int64, occurredAt: String, now: String,
                  detail: String? = nil) throws {
        try insertEvent(type, session: chat.session, chat: chat.chat, message: rowId, deliveryId: deliveryId, occurredAt: occurredAt,
                        now: now, detail: detail)
    }

    /// An event about a stored message: its session and chat are the message's.
    func logMessageEvent(_ type: InboxEventType, message rowId: Int64, occurredAt: String, deliveryId: Int64, now: String,
                         detail: [(String, JSONValue)]? = nil) throws {
        try flushEvents()  // the events logged before it come first
        try db.write(
            """
            INSERT INTO inbox_events (type, session_id, chat, message_id, delivery_id, occurred_at, recorded_at, detail)
            SELECT ?, session_id, contact, id, ?, ?, ?, ? FROM messages WHERE id = ?
            """,
            type.rawValue, deliveryId, occurredAt, now, Self.detailJSON(detail), rowId
        )
    }

    /// An event about a session, a contact or a group.
    func logEvent(_ type: InboxEventType, session: String?, chat: String?, deliveryId: Int64, occurredAt: String, now: String,
                  detail: [(String, JSONValue)]) throws {
        try insertEvent(type, session: session, chat: chat, message: nil, deliveryId: deliveryId, occurredAt: occurredAt, now: now,
                        detail: Self.detailJSON(detail))
    }

    private func insertEvent(_ type: InboxEventType, session: String?, chat: String?, message rowId: Int64?, deliveryId: Int64,
                             occurredAt: String, now: String, detail: String?) throws {
        let row: [any SQLBindable] = [type.rawValue, session, chat, rowId, deliveryId, occurredAt, now, detail]
        state.pendingEvents.append(contentsOf: row)
        if state.pendingEvents.count >= Self.maxPendingEvents * Self.eventColumns { try flushEvents() }
    }

    /// Inserts the events gathered so far, in the order they were logged.
    func flushEvents() throws {
        guard !state.pendingEvents.isEmpty else { return }
        let values = state.pendingEvents
        state.pendingEvents.removeAll(keepingCapacity: true)
        let rows = Array(repeating: "(?, ?, ?, ?, ?, ?, ?, ?)", count: values.count / Self.eventColumns).joined(separator: ", ")
        try db.write(
            "INSERT INTO inbox_events (type, session_id, chat, message_id, delivery_id, occurred_at, recorded_at, detail) VALUES \(rows)",
            arguments: values
        )
    }

    /// Values a row of `inbox_events` takes; rows a statement inserts at most (so a batch's
    /// statements come in few distinct texts).
    private static let eventColumns = 8
    static let maxPendingEvents = 64

    private static func detailJSON(_ members: [(String, JSONValue)]?) -> String? {
        members.map { String(decoding: JSONValue.object($0).serialized, as: UTF8.self) }
    }
}

extension JSONValue {
    /// A string, or null for nil.
    static func text(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }
}
