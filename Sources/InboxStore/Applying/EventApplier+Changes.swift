import Foundation
import InboxEvents

/// Reactions, edits and deletions: events that change a stored message instead of adding one, and
/// the file metadata of media messages.
///
/// A change whose message has not arrived yet waits in `pending_message_changes` (as an early
/// receipt waits in `pending_acks`) and is applied when the message arrives. Every rule is
/// idempotent and keyed on the event's own time, so repeats and late arrivals end in one state.
extension EventApplier {
    /// One reaction, edit or deletion, as applied and as kept while it waits.
    struct MessageChange {
        enum Kind: String {
            case reaction, edit, delete
        }

        let kind: Kind
        let target: MessageRef
        /// The reactor, for a reaction.
        let actor: String?
        /// The emoji (nil: removed), or the new text.
        let value: String?
        /// The event's own time (arrival time when it has none), ISO 8601.
        let eventTime: String

        init(kind: Kind, target: MessageRef, actor: String?, value: String?, eventTime: String) {
            self.kind = kind
            self.target = target
            self.actor = actor
            self.value = value
            self.eventTime = eventTime
        }

        /// The change an event makes; nil for events that are not changes.
        init?(_ event: InboxEvent, delivery: Delivery) {
            func time(_ seconds: Int64?) -> String {
                seconds.map(Timestamps.iso(unixSeconds:)) ?? delivery.receivedAtText
            }
            switch event {
            case .reaction(let reaction):
                self.init(kind: .reaction, target: reaction.target, actor: reaction.reactor, value: reaction.emoji,
                          eventTime: time(reaction.time))
            case .messageEdited(let edit):
                self.init(kind: .edit, target: edit.target, actor: nil, value: edit.body, eventTime: time(edit.time))
            case .messageDeleted(let deletion):
                self.init(kind: .delete, target: deletion.target, actor: nil, value: nil, eventTime: time(deletion.time))
            default:
                return nil
            }
        }
    }

    /// Applies a change to its message, or keeps it until the message arrives.
    func applyChange(_ change: MessageChange, session: String, delivery: Delivery) throws {
        let targets = try findMessages(change.target.id, key: change.target.key, session: session)
        guard !targets.isEmpty else {
            try db.write(
                """
                INSERT INTO pending_message_changes (session_id, message_ref, change, actor, value, event_time, delivery_id, received_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """,
                session, change.target.key, change.kind.rawValue, change.actor, change.value, change.eventTime,
                delivery.id, delivery.receivedAtText
            )
            state.pendingChangeTargets?.insert(Self.pendingKey(session, change.target.key))
            return
        }
        for target in targets {
            try apply(change, to: Int64(target.int(0) ?? 0), deliveryId: delivery.id, now: delivery.now)
        }
    }

    /// Applies the changes that were waiting for a message that has just arrived.
    func applyPendingChanges(to rowId: Int64, session: String, refs: [String], now: String) throws {
        if !state.pendingChangeTargetsLoaded {
            let limit = 100_000
            let rows = try db.query("SELECT session_id, message_ref FROM pending_message_changes LIMIT ?", limit + 1)
            state.pendingChangeTargets = rows.count > limit ? nil
                : Set(rows.map { Self.pendingKey($0.string(0) ?? "", $0.string(1) ?? "") })
            state.pendingChangeTargetsLoaded = true
        }
        if let targets = state.pendingChangeTargets {
            guard targets.contains(Self.pendingKey(session, refs[0])) || targets.contains(Self.pendingKey(session, refs[1])) else {
                return
            }
        }
        let rows = try db.query(
            """
            SELECT change, message_ref, actor, value, event_time, delivery_id FROM pending_message_changes
            WHERE session_id = ? AND message_ref IN (?, ?) ORDER BY id
            """,
            session, refs[0], refs[1]
        )
        guard !rows.isEmpty else { return }
        for row in rows {
            guard let kind = row.string(0).flatMap(MessageChange.Kind.init(rawValue:)) else { continue }
            let change = MessageChange(kind: kind, target: MessageRef(id: row.string(1) ?? ""), actor: row.string(2),
                                       value: row.string(3), eventTime: row.string(4) ?? now)
            try apply(change, to: rowId, deliveryId: Int64(row.int(5) ?? 0), now: now)
        }
        try db.write("DELETE FROM pending_message_changes WHERE session_id = ? AND message_ref IN (?, ?)", session, refs[0], refs[1])
        state.pendingChangeTargets?.remove(Self.pendingKey(session, refs[0]))
        state.pendingChangeTargets?.remove(Self.pendingKey(session, refs[1]))
    }

    static func pendingKey(_ session: String, _ ref: String) -> String {
        session + "\u{1F}" + ref
    }

    private func apply(_ change: MessageChange, to rowId: Int64, deliveryId: Int64, now: String) throws {
        switch change.kind {
        case .reaction:
            try react(rowId: rowId, reactor: change.actor ?? "unknown", emoji: change.value, at: change.eventTime,
                      deliveryId: deliveryId, now: now)
        case .edit:
            try edit(rowId: rowId, body: change.value, at: change.eventTime, deliveryId: deliveryId, now: now)
        case .delete:
            try delete(rowId: rowId, at: change.eventTime, deliveryId: deliveryId, now: now)
        }
    }

    /// One reaction per person per message; the newer event wins, so a late older one changes nothing.
    private func react(rowId: Int64, reactor: String, emoji: String?, at time: String, deliveryId: Int64, now: String) throws {
        let changed = try db.run(
            """
            INSERT INTO message_reactions (message_id, reactor, emoji, reacted_at, delivery_id, updated_at) VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT (message_id, reactor) DO UPDATE SET emoji = excluded.emoji, reacted_at = excluded.reacted_at,
                delivery_id = excluded.delivery_id, updated_at = excluded.updated_at
            WHERE excluded.reacted_at >= message_reactions.reacted_at
            """,
            rowId, reactor, emoji, time, deliveryId, now
        )
        guard changed > 0 else { return }
        try logMessageEvent(.messageReaction, message: rowId, occurredAt: time, deliveryId: deliveryId, now: now, detail: [
            ("reaction", .object([("reactor", .string(reactor)), ("emoji", .text(emoji)), ("reacted_at", .string(time))])),
        ])
    }

    /// The message takes the newest edit's text; each edit's previous text goes to `message_edits`.
    private func edit(rowId: Int64, body: String?, at time: String, deliveryId: Int64, now: String) throws {
        guard let current = try db.queryFirst(
            "SELECT body, edited_at, deleted_at IS NOT NULL FROM messages WHERE id = ?", rowId
        ), current.int(2) == 0 else { return }  // a deleted message is not edited back to life
        // One edit can come through two hooks (WAHA, Evolution's edited and upsert events).
        if try db.queryFirst(
            "SELECT 1 FROM message_edits WHERE message_id = ? AND edited_at = ? AND new_body IS NOT DISTINCT FROM ?", rowId, time, body
        ) != nil { return }
        let previous = current.string(0)
        try db.write(
            "INSERT INTO message_edits (message_id, previous_body, new_body, edited_at, delivery_id) VALUES (?, ?, ?, ?, ?)",
            rowId, previous, body, time, deliveryId
        )
        if let lastEdit = current.string(1), time < lastEdit { return }
        try db.write(
            "UPDATE messages SET body = COALESCE(?, body), edited_at = ?, updated_at = ? WHERE id = ?", body, time, now, rowId
        )
        try logMessageEvent(.messageEdited, message: rowId, occurredAt: time, deliveryId: deliveryId, now: now, detail: [
            ("edit", .object([("previous_body", .text(previous)), ("edited_at", .string(time))])),
        ])
        if let body, rowId <= state.fullTextWatermark {
            try reindexBody(rowId: rowId, old: previous, new: body)
        }
    }

    /// Deleted for everyone: the row stays as a tombstone; its text, content, file and edit
    /// history are not kept, and it leaves search.
    private func delete(rowId: Int64, at time: String, deliveryId: Int64, now: String) throws {
        guard let current = try db.queryFirst("SELECT body, deleted_at FROM messages WHERE id = ?", rowId),
              current.string(1) == nil else { return }
        try db.write(
            "UPDATE messages SET deleted_at = ?, body = NULL, content = NULL, data = '{}', updated_at = ? WHERE id = ?",
            time, now, rowId
        )
        try db.write("DELETE FROM message_media WHERE message_id = ?", rowId)
        try db.write("UPDATE message_edits SET previous_body = NULL, new_body = NULL WHERE message_id = ?", rowId)
        try logMessageEvent(.messageDeleted, message: rowId, occurredAt: time, deliveryId: deliveryId, now: now,
                            detail: [("deletion", .object([("deleted_at", .string(time))]))])
        if let old = current.string(0), rowId <= state.fullTextWatermark, db.dialect.feedsFullTextTable {
            try db.write("INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', ?, ?)", rowId, old)
        }
    }

    /// A media message's file: what a later delivery adds fills in, nothing is cleared. A deleted
    /// message gets no file back.
    func upsertMedia(_ media: MediaInfo, messageRow: Int64, now: String) throws {
        try db.write(
            """
            INSERT INTO message_media (message_id, kind, mime_type, file_name, size_bytes, sha256, gateway_media_id, url,
                width, height, duration_seconds, is_animated, updated_at)
            SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE (SELECT deleted_at FROM messages WHERE id = ?) IS NULL
            ON CONFLICT (message_id) DO UPDATE SET kind = excluded.kind,
                mime_type = COALESCE(excluded.mime_type, message_media.mime_type), file_name = COALESCE(excluded.file_name, message_media.file_name),
                size_bytes = COALESCE(excluded.size_bytes, message_media.size_bytes), sha256 = COALESCE(excluded.sha256, message_media.sha256),
                gateway_media_id = COALESCE(excluded.gateway_media_id, message_media.gateway_media_id), url = COALESCE(excluded.url, message_media.url),
                width = COALESCE(excluded.width, message_media.width), height = COALESCE(excluded.height, message_media.height),
                duration_seconds = COALESCE(excluded.duration_seconds, message_media.duration_seconds),
                is_animated = COALESCE(excluded.is_animated, message_media.is_animated), updated_at = excluded.updated_at
            """,
            messageRow, media.kind.rawValue, media.mimeType, media.fileName, media.sizeBytes, media.sha256, media.gatewayMediaId,
            media.url, media.width, media.height, media.durationSeconds, media.isAnimated, now, messageRow
        )
    }
}
