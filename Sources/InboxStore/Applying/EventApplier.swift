import InboxEvents
import Foundation

/// The rules that turn one decoded webhook into rows, inside the writer's transaction.
///
/// Every rule is written so the final state does not depend on arrival order or repeats: message
/// rows are upserts, statuses only move up (`MessageStatus.rank`), contact activity times are
/// min/max, session changes carry their event time and an older one never overwrites a newer.
struct EventApplier {
    let db: any SQLDatabase
    /// What the applier remembers across the deliveries of one writer.
    let state = State()

    final class State {
        /// Sessions known to have a row, so most deliveries skip the insert-if-missing. Forgotten
        /// whenever a transaction or savepoint rolls back (the row may have gone with it).
        var knownSessions: Set<String> = []
        /// The highest `messages.id` when the transaction began: rows above it are new in this
        /// transaction and reach the full-text index together at its end.
        var fullTextWatermark: Int64 = 0
        /// The messages `pending_message_changes` waits for (`session␟ref`; nil: not loaded yet,
        /// or too many to keep in memory), so a new message looks for early reactions, edits and
        /// deletions only when one names it. Rows expired by housekeeping may linger here: that
        /// costs one empty lookup, never a missed change.
        var pendingChangeTargets: Set<String>?
        var pendingChangeTargetsLoaded = false
        /// Contacts merged by the delivery being applied, for the live stream.
        var merges: [ContactMerge] = []
        /// Contacts filed recently, so a message from a known person costs one update by row id.
        var contacts = ContactCache()
        /// Events logged and not inserted yet (`flushEvents`), eight values a row.
        var pendingEvents: [any SQLBindable] = []
    }

    /// Which contact an identifier is filed under, and what each contact shows as its name, as
    /// the writer last wrote them. Forgotten on rollback, on any merge or refile, and past its
    /// bound; a display name is dropped whenever anything but `record` may have changed it.
    struct ContactCache {
        static let bound = 50_000
        var filed: [String: (id: Int64, whatsappId: String)] = [:]
        var display: [Int64: (name: String?, source: NameSource?)] = [:]

        mutating func forget() {
            filed.removeAll()
            display.removeAll()
        }

        mutating func remember(_ contact: ContactRecord, as key: String) {
            if filed.count >= Self.bound { forget() }
            filed[key] = (contact.id, contact.whatsappId)
            display[contact.id] = (contact.displayName, contact.displaySource)
        }

        func contact(_ key: String) -> ContactRecord? {
            guard let filed = filed[key], let shown = display[filed.id] else { return nil }
            return ContactRecord(id: filed.id, whatsappId: filed.whatsappId, displayName: shown.name, displaySource: shown.source)
        }
    }

    /// Call after any rollback.
    func forgetSessions() {
        state.knownSessions.removeAll()
        state.pendingChangeTargets = nil
        state.pendingChangeTargetsLoaded = false
        state.merges.removeAll()
        state.contacts.forget()
        state.pendingEvents.removeAll()  // rolled back with their changes
    }

    /// Call first in every transaction that applies deliveries.
    ///
    /// The full-text index is written once per transaction rather than by a trigger per message:
    /// FTS5 flushes its pending terms to a new segment at every statement savepoint, so a
    /// trigger made one segment (and later merges) per message — a tenth of the writer's time.
    func beginTransaction() throws {
        // Another node may have merged, refiled or renamed anything since our last transaction.
        if db.dialect.hasOtherWriters { forgetSessions() }
        guard db.dialect.feedsFullTextTable else { return }
        state.fullTextWatermark = Int64(try db.queryFirst("SELECT COALESCE(max(id), 0) FROM messages")?.int(0) ?? 0)
    }

    /// Call last in every transaction that applies deliveries, before its commit.
    func finishTransaction() throws {
        try flushEvents()
        guard db.dialect.feedsFullTextTable else { return }
        try db.write(
            "INSERT INTO messages_fts (rowid, body) SELECT id, body FROM messages WHERE id > ? AND body IS NOT NULL ORDER BY id",
            state.fullTextWatermark
        )
    }

    /// What one delivery did.
    enum Outcome: Equatable {
        case applied
        case ignored
    }

    /// The context of one delivery, which rules need besides its payload.
    struct Delivery {
        let id: Int64
        let sessionId: String?
        let envelope: WebhookEnvelope
        let receivedAt: Date
        let now: String
        /// `receivedAt` as stored, formatted once per delivery.
        let receivedAtText: String
        /// When the gateway says the delivery happened (its signed time), else when it arrived.
        var eventTimeText: String { envelope.signedTime.map(Timestamps.iso) ?? receivedAtText }

        /// The gateway's object for the event being applied (`messages.data`, `session_events.data`).
        var data = "{}"

        init(id: Int64, sessionId: String?, envelope: WebhookEnvelope, receivedAt: Date, now: String) {
            self.id = id
            self.sessionId = sessionId
            self.envelope = envelope
            self.receivedAt = receivedAt
            self.now = now
            receivedAtText = Timestamps.iso(receivedAt)
        }
    }

    /// Applies every event of the delivery; `ignored` when none of them changes anything.
    func apply(_ delivery: Delivery) throws -> Outcome {
        state.merges.removeAll()
        let events: [RoutedEvent]
        switch delivery.envelope.payload {
        case .success(let decoded): events = decoded
        case .failure(let error): throw error
        }
        var outcome = Outcome.ignored
        for routed in events {
            if case .other = routed.event { continue }
            if routed.session == nil, let account = routed.account, case .sessionNotice(let notice) = routed.event {
                try applyAccountNotice(notice, account: account, provider: delivery.envelope.provider, delivery: context(routed))
                outcome = .applied
                continue
            }
            guard let sessionId = routed.session ?? delivery.sessionId, !sessionId.isEmpty else {
                throw PayloadError("\(delivery.envelope.event) has no sessionId (body or X-Webhook-Session)")
            }
            let context = context(routed)
            try ensureSession(sessionId, provider: delivery.envelope.provider, now: delivery.now)
            switch routed.event {
            case .messageReceived(let message):
                try applyMessage(message, outgoing: false, session: sessionId, delivery: context)
            case .messageSent(let message):
                try applyMessage(message, outgoing: true, session: sessionId, delivery: context)
            case .messageAck(let ack):
                try applyAck(ack, session: sessionId, delivery: context)
            case .reaction, .messageEdited, .messageDeleted:
                if let change = MessageChange(routed.event, delivery: context) {
                    try applyChange(change, session: sessionId, delivery: context)
                }
            case .pollVotes(let votes):
                try applyPollVotes(votes, session: sessionId, delivery: context)
            case .historySynced(let history):
                try applyHistory(history, session: sessionId, delivery: context)
            case .contactsUpdated(let contacts):
                try applyContacts(contacts, session: sessionId, delivery: context)
            case .groupUpdated(let group):
                try applyGroup(group, session: sessionId, delivery: context)
            case .sessionNotice(let notice):
                try recordSessionEvent(notice, session: sessionId, delivery: context)
            case .sessionQR, .sessionConnected, .sessionDisconnected, .sessionPending:
                try applySessionEvent(routed.event, session: sessionId, delivery: context)
            case .sessionSeen(let phone, let account):
                try markSeen(sessionId, phoneNumber: phone, account: account, now: delivery.now)
            case .other:
                continue
            }
            if routed.event.kind != nil { outcome = .applied }
        }
        return outcome

        func context(_ routed: RoutedEvent) -> Delivery {
            var context = delivery
            context.data = String(decoding: routed.dataJSON, as: UTF8.self)
            return context
        }
    }

    // MARK: - Sessions

    private func ensureSession(_ sessionId: String, provider: Provider, now: String) throws {
        if state.knownSessions.contains(sessionId) { return }
        try db.write(
            """
            INSERT INTO sessions (session_id, provider, created_at, updated_at) VALUES (?, ?, ?, ?)
            ON CONFLICT (session_id) DO NOTHING
            """,
            sessionId, provider.rawValue, now, now
        )
        state.knownSessions.insert(sessionId)
    }

    /// A gateway without session events delivered for this session: it is connected. Only a
    /// session no event has set yet is changed, so this never overrides a real status change.
    private func markSeen(_ sessionId: String, phoneNumber: String?, account: String?, now: String) throws {
        try db.write(
            """
            UPDATE sessions SET status = 'Connected', is_connected = 1, phone_number = COALESCE(phone_number, ?),
                account_id = COALESCE(?, account_id), updated_at = ?
            WHERE session_id = ? AND ((status_changed_at IS NULL AND (status <> 'Connected' OR phone_number IS NULL))
                                      OR account_id IS DISTINCT FROM ?)
            """,
            phoneNumber, account, now, sessionId, account
        )
    }

    private func applySessionEvent(_ event: InboxEvent, session: String, delivery: Delivery) throws {
        let eventTime: Date?
        switch event {
        case .sessionQR(let qr): eventTime = qr.eventTime
        case .sessionConnected(let connected): eventTime = connected.eventTime
        case .sessionDisconnected(let disconnected): eventTime = disconnected.eventTime
        case .sessionPending(let time): eventTime = time
        default: return
        }
        let changedAt = Timestamps.iso(eventTime ?? delivery.envelope.signedTime ?? delivery.receivedAt)
        try db.write(
            """
            INSERT INTO session_events (session_id, delivery_id, event, event_time, data, received_at, summary)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """,
            session, delivery.id, delivery.envelope.event, changedAt, delivery.data, delivery.receivedAtText, Self.summary(of: event)
        )
        let latest = try db.queryFirst("SELECT status_changed_at FROM sessions WHERE session_id = ?", session)?.string(0)
        if let latest, changedAt < latest { return }

        switch event {
        case .sessionQR(let qr):
            try db.write(
                """
                UPDATE sessions SET status = 'QR Code', is_connected = 0, qr_code = ?, qr_expires_at = ?,
                    status_changed_at = ?, updated_at = ? WHERE session_id = ?
                """,
                qr.qrCode, qr.expiresAt.map(Timestamps.iso), changedAt, delivery.now, session
            )
        case .sessionConnected(let connected):
            try db.write(
                """
                UPDATE sessions SET status = 'Connected', is_connected = 1, phone_number = COALESCE(?, phone_number),
                    qr_code = NULL, qr_expires_at = NULL, disconnect_reason = NULL,
                    status_changed_at = ?, updated_at = ? WHERE session_id = ?
                """,
                connected.phoneNumber, changedAt, delivery.now, session
            )
        case .sessionDisconnected(let disconnected):
            try db.write(
                """
                UPDATE sessions SET status = 'Disconnected', is_connected = 0, disconnect_reason = ?,
                    qr_code = NULL, qr_expires_at = NULL, status_changed_at = ?, updated_at = ? WHERE session_id = ?
                """,
                disconnected.reason ?? "unknown", changedAt, delivery.now, session
            )
        case .sessionPending:
            try db.write(
                """
                UPDATE sessions SET status = 'Pending', is_connected = 0, qr_code = NULL, qr_expires_at = NULL,
                    status_changed_at = ?, updated_at = ? WHERE session_id = ?
                """,
                changedAt, delivery.now, session
            )
        default:
            return
        }
        var shown: [(String, JSONValue)]
        switch event {
        case .sessionQR(let qr):
            shown = [("status", .string("QR Code")), ("qr_code", .text(qr.qrCode)), ("qr_expires_at", .text(qr.expiresAt.map(Timestamps.iso)))]
        case .sessionConnected(let connected):
            shown = [("status", .string("Connected")), ("phone_number", .text(connected.phoneNumber))]
        case .sessionDisconnected(let disconnected):
            shown = [("status", .string("Disconnected")), ("disconnect_reason", .string(disconnected.reason ?? "unknown"))]
        default:
            shown = [("status", .string("Pending"))]
        }
        shown.append(("summary", .text(Self.summary(of: event))))
        let type: InboxEventType = if case .sessionQR = event { .sessionQR } else { .sessionStatus }
        try logEvent(type, session: session, chat: nil, deliveryId: delivery.id, occurredAt: changedAt, now: delivery.now,
                     detail: [("session", .object(shown))])
    }

    /// The readable line of a session status event.
    static func summary(of event: InboxEvent) -> String? {
        switch event {
        case .sessionQR: return "Waiting for the QR code to be scanned"
        case .sessionConnected(let connected): return "Connected" + (connected.phoneNumber.map { " as +\($0)" } ?? "")
        case .sessionDisconnected(let disconnected): return "Disconnected" + (disconnected.reason.map { " (\($0))" } ?? "")
        case .sessionPending: return "Starting"
        default: return nil
        }
    }

    // MARK: - Messages

    func applyMessage(_ message: MessagePayload, outgoing: Bool, session: String, delivery: Delivery) throws {
        guard var chat = message.chat(outgoing: outgoing), !chat.isEmpty else {
            throw PayloadError("\(delivery.envelope.event) has no chat (data.id.remote, data.from or data.to)")
        }
        let isStatus = message.isStatusBroadcast
        var message = message
        if !isStatus {
            // Filed under the contact's preferred identifier, whichever one this event used.
            for link in message.identityLinks { try self.link(link, session: session, origin: delivery.origin) }
            let isGroup = chat.hasSuffix("@g.us")
            // A name is as of the message's own time, so the newest message's name wins in any order.
            let senderName = outgoing ? nil
                : SeenName(message.displayName, source: .profile, unixTime: message.timestamp, delivery: delivery)
            chat = try touchContact(chat, session: session, timestamp: message.timestamp, now: delivery.now,
                                    name: isGroup ? nil : senderName).whatsappId
            if isGroup, let author = message.author, !author.isEmpty {
                message.author = try touchContact(author, session: session, timestamp: message.timestamp, now: delivery.now,
                                                  name: senderName).whatsappId
            }
            for name in message.names {
                if let named = try self.contact(for: name.identifier, session: session),
                   let seen = SeenName(name.name, source: name.source, unixTime: message.timestamp, delivery: delivery) {
                    try record(seen, for: named)
                }
            }
        }

        let baseStatus: MessageStatus = outgoing ? .sent : .received
        let rowId: Int64
        var status: MessageStatus
        // Inserted first (the common case: a new message) and looked up only when it exists.
        // A message without a time is filed at the time it was received, so it still sorts.
        let timestamp = message.timestamp ?? Int64(delivery.receivedAt.timeIntervalSince1970)
        let kind = message.messageKind.rawValue
        let content = message.content.map { String(decoding: $0.serialized, as: UTF8.self) }
        let insertedId = try db.insertReturningId(
            """
            INSERT INTO messages (message_id, wa_key_id, session_id, contact, from_me, author, body, type, gateway_type, content,
                timestamp, has_media, is_forwarded, is_status, quoted_msg_id, status, data, created_at, updated_at, backfilled)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (message_id) DO NOTHING
            """,
            message.messageId, message.waKeyId, session, chat, outgoing, message.author, message.body,
            kind, message.gatewayType, content, timestamp, message.hasMedia ?? false, message.isForwarded ?? false, isStatus,
            message.quotedMsgId, baseStatus.rawValue, delivery.data, delivery.now, delivery.now, message.backfilled
        )
        let isNew = insertedId != nil
        if let insertedId {
            status = baseStatus
            rowId = insertedId
            try logEvent(outgoing ? .messageSent : .messageReceived, message: rowId, in: ChatKey(session: session, chat: chat),
                         deliveryId: delivery.id, occurredAt: Timestamps.iso(unixSeconds: timestamp), now: delivery.now)
            if !isStatus {
                try countInConversation(rowId: rowId, session: session, chat: chat, outgoing: outgoing, timestamp: timestamp,
                                        countsUnread: !outgoing && !isStatus && !message.backfilled && kind != MessageKind.system.rawValue)
            }
        } else {
            guard let existing = try db.queryFirst(
                "SELECT id, status, body, deleted_at IS NOT NULL, edited_at IS NOT NULL FROM messages WHERE message_id = ?", message.messageId
            ) else { throw SQLiteError(code: 1, message: "message \(message.messageId) neither inserted nor found") }
            rowId = Int64(existing.int(0) ?? 0)
            let current = MessageStatus(rawValue: existing.string(1) ?? "") ?? baseStatus
            status = current.rank >= baseStatus.rank ? current : baseStatus
            // A message deleted for everyone keeps no text, and an edited one keeps its newest text:
            // a late copy of the original brings neither back.
            let textSettled = existing.int(3) == 1 || existing.int(4) == 1
            // Only what this delivery carries changes: a field it lacks keeps its stored value.
            try db.write(
                """
                UPDATE messages SET wa_key_id = COALESCE(?, wa_key_id), contact = ?, author = COALESCE(?, author),
                    body = CASE WHEN deleted_at IS NULL AND edited_at IS NULL THEN COALESCE(?, body) ELSE body END,
                    type = ?, gateway_type = COALESCE(?, gateway_type),
                    content = CASE WHEN deleted_at IS NULL THEN COALESCE(?, content) END,
                    timestamp = COALESCE(?, timestamp), has_media = COALESCE(?, has_media), is_forwarded = COALESCE(?, is_forwarded),
                    is_status = \(db.dialect.greatest)(is_status, ?), quoted_msg_id = COALESCE(?, quoted_msg_id),
                    status = ?, data = CASE WHEN deleted_at IS NULL THEN ? ELSE data END, updated_at = ?
                WHERE id = ?
                """,
                message.waKeyId, chat, message.author, message.body, kind, message.gatewayType, content, message.timestamp,
                message.hasMedia, message.isForwarded, isStatus, message.quotedMsgId,
                status.rawValue, delivery.data, delivery.now, rowId
            )
            if !textSettled, let body = message.body, rowId <= state.fullTextWatermark {
                try reindexBody(rowId: rowId, old: existing.string(2), new: body)
            }
            // A copy that only repeats the message is no news; new text or a file's description is.
            let textChanged = !textSettled && message.body != nil && message.body != existing.string(2)
            if textChanged || message.media != nil {
                try logEvent(.messageUpdated, message: rowId, in: ChatKey(session: session, chat: chat), deliveryId: delivery.id,
                             occurredAt: delivery.eventTimeText, now: delivery.now)
            }
        }
        if let media = message.media {
            try upsertMedia(media, messageRow: rowId, now: delivery.now)
        }

        // Receipts: one carried on the message itself, and any that arrived before it.
        var best: Receipt?
        if let code = message.ack, let ack = AckCode(rawValue: Int(code)) {
            best = Receipt(ack: ack, time: delivery.receivedAtText, receivedAt: delivery.receivedAtText, deliveryId: delivery.id)
        }
        let shortId = message.waKeyId ?? message.messageId
        // Sorted here rather than by ORDER BY, which opened a temporary sorter for every message
        // (almost always to sort nothing).
        let pending = try db.query(
            """
            SELECT ack, delivery_id, received_at, ack_at, id, participant FROM pending_acks
            WHERE session_id = ? AND message_ref IN (?, ?)
            """,
            session, message.messageId, shortId
        ).sorted { ($0.int(4) ?? 0) < ($1.int(4) ?? 0) }
        if !pending.isEmpty {
            for row in pending {
                guard let ack = row.int(0).flatMap(AckCode.init(rawValue:)) else { continue }
                let receivedAt = row.string(2) ?? delivery.now
                var receipt = Receipt(ack: ack, time: row.string(3) ?? receivedAt, receivedAt: receivedAt, deliveryId: Int64(row.int(1) ?? 0))
                receipt.participant = row.string(5)
                try recordAck(receipt, messageRow: rowId, deliveryId: receipt.deliveryId)
                if best.map({ receipt.ack.status.rank > $0.ack.status.rank }) ?? true { best = receipt }
            }
            try db.write(
                "DELETE FROM pending_acks WHERE session_id = ? AND message_ref IN (?, ?)",
                session, message.messageId, shortId
            )
        }
        if let best {
            try raise(rowId: rowId, from: status, to: best, chat: ChatKey(session: session, chat: chat), now: delivery.now)
        }
        if isNew {
            try applyPendingChanges(to: rowId, session: session, refs: [message.messageId, shortId], now: delivery.now)
        }
    }

    /// A stored message's text changed: its old terms leave the full-text index, the new ones
    /// enter. (Rows new in this transaction are indexed at its end with their final text.)
    func reindexBody(rowId: Int64, old: String?, new: String) throws {
        guard old != new, db.dialect.feedsFullTextTable else { return }
        if let old {
            try db.write("INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', ?, ?)", rowId, old)
        }
        try db.write("INSERT INTO messages_fts (rowid, body) VALUES (?, ?)", rowId, new)
    }

    /// One receipt: its code, its own time (payload, else arrival) and its arrival time.
    struct Receipt {
        let ack: AckCode
        let time: String
        let receivedAt: String
        /// The delivery that carried it.
        let deliveryId: Int64
        var errorCode: Int64? = nil
        var errorTitle: String? = nil
        /// The group member it is from, for a member's own receipt.
        var participant: String? = nil
    }

    /// Keeps the chat's `conversations` row current for a newly stored message: count, newest
    /// message, and unread (incoming messages newer than our last outgoing one) — all computed so
    /// that arrival order does not matter.
    /// Which messages count as unread (when newer than our last outgoing one): incoming chat
    /// messages, not history (backfilled) nor system notices (a number change), which are nothing to
    /// answer. `countsUnread` below is the same rule for the message being stored.
    static let countsUnreadSQL = "from_me = 0 AND is_status = 0 AND backfilled = 0 AND type <> 'system'"

    private func countInConversation(
        rowId: Int64, session: String, chat: String, outgoing: Bool, timestamp: Int64, countsUnread: Bool
    ) throws {
        let unread = countsUnread ? 1 : 0
        guard let row = try db.queryFirst(
            "SELECT id, last_activity_at, last_outgoing_at FROM conversations WHERE session_id = ? AND contact = ?",
            session, chat
        ) else {
            try db.write(
                """
                INSERT INTO conversations (session_id, contact, last_message_id, last_activity_at, message_count,
                    unread_count, last_outgoing_at) VALUES (?, ?, ?, ?, 1, ?, ?)
                """,
                session, chat, rowId, timestamp, unread, outgoing ? timestamp : nil
            )
            return
        }
        let id = Int64(row.int(0) ?? 0)
        let isNewest = timestamp >= Int64(row.int(1) ?? 0)
        let lastOutgoing = row.int(2).map(Int64.init)
        if outgoing, timestamp > (lastOutgoing ?? -1) {
            try db.write(Self.countOutgoing[db.dialect], timestamp, session, chat, timestamp, isNewest, rowId, timestamp, id)
        } else {
            let unreadIncrement = unread == 1 && timestamp > (lastOutgoing ?? -1) ? 1 : 0
            try db.write(Self.countIncoming[db.dialect], unreadIncrement, isNewest, rowId, timestamp, id)
        }
    }

    /// A new message of ours: counted, unread recounted (what came before it is answered).
    private static let countOutgoing = PerEngine { sql in
        """
        UPDATE conversations SET message_count = message_count + 1, last_outgoing_at = ?,
            unread_count = (SELECT count(*) FROM messages WHERE session_id = ? AND contact = ?
                            AND timestamp > ? AND \(countsUnreadSQL)),
            last_message_id = CASE WHEN ? = 1 THEN ? ELSE last_message_id END,
            last_activity_at = \(sql.greatest)(last_activity_at, ?)
        WHERE id = ?
        """
    }

    /// A new message: counted, unread raised when it counts.
    private static let countIncoming = PerEngine { sql in
        """
        UPDATE conversations SET message_count = message_count + 1, unread_count = unread_count + ?,
            last_message_id = CASE WHEN ? = 1 THEN ? ELSE last_message_id END,
            last_activity_at = \(sql.greatest)(last_activity_at, ?)
        WHERE id = ?
        """
    }

    /// Appends a receipt to the message's ack history.
    private func recordAck(_ receipt: Receipt, messageRow: Int64, deliveryId: Int64) throws {
        if let participant = receipt.participant {
            try recordMemberReceipt(receipt, participant: participant, messageRow: messageRow, deliveryId: deliveryId)
        }
        try db.write(
            """
            INSERT INTO message_acks (message_id, ack, status, delivery_id, received_at, ack_at, error_code, error_title)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """,
            messageRow, receipt.ack.rawValue, receipt.ack.status.rawValue, deliveryId, receipt.receivedAt, receipt.time,
            receipt.errorCode, receipt.errorTitle
        )
    }

    /// The digits of a personal JID (`34612345678@c.us` → `34612345678`); nil for groups and
    /// privacy ids (`@lid`), which carry no phone number.
    static func phoneNumber(of jid: String) -> String? {
        guard let at = jid.firstIndex(of: "@") else { return nil }
        let domain = jid[jid.index(after: at)...]
        guard domain == "c.us" || domain == "s.whatsapp.net" else { return nil }
        let user = jid[..<at].prefix { $0 != ":" }
        guard !user.isEmpty, user.allSatisfy(\.isNumber) else { return nil }
        return String(user)
    }

    // MARK: - Receipts

    private func applyAck(_ ack: AckPayload, session: String, delivery: Delivery) throws {
        let key = ack.keyId ?? ack.messageId
        var targets = try findMessages(ack.messageId, key: key, session: session)
        let receipt = Receipt(
            ack: ack.ack, time: ack.time.map(Timestamps.iso) ?? delivery.receivedAtText, receivedAt: delivery.receivedAtText,
            deliveryId: delivery.id, errorCode: ack.errorCode, errorTitle: ack.errorTitle, participant: ack.participant
        )
        if targets.isEmpty, let chat = ack.createsOutgoingMessageTo {
            // Meta never sends the outgoing message itself: its first status creates the row.
            var message = MessagePayload(messageId: ack.messageId, waKeyId: key, chat: chat, fromMe: true)
            message.timestamp = ack.timestamp
            try applyMessage(message, outgoing: true, session: session, delivery: delivery)
            targets = try findMessages(ack.messageId, key: key, session: session)
        }
        guard !targets.isEmpty else {
            try db.write(
                """
                INSERT INTO pending_acks (session_id, message_ref, ack, delivery_id, received_at, ack_at, participant)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """,
                session, key, ack.ack.rawValue, delivery.id, receipt.receivedAt, receipt.time, ack.participant
            )
            return
        }
        for target in targets {
            let current = MessageStatus(rawValue: target.string(1) ?? "") ?? .pending
            let rowId = Int64(target.int(0) ?? 0)
            try recordAck(receipt, messageRow: rowId, deliveryId: delivery.id)
            try raise(rowId: rowId, from: current, to: receipt, chat: ChatKey(session: session, chat: target.string(2) ?? ""),
                      now: delivery.now)
        }
    }

    /// The session's messages a receipt refers to, by full id or by bare key.
    func findMessages(_ messageId: String, key: String, session: String) throws -> [SQLRow] {
        // `+session_id` keeps the planner on the two id indexes: a session's messages are many.
        try db.query(Self.findForReceipt[db.dialect], session, messageId, key)
    }

    private static let findForReceipt = PerEngine { sql in
        "SELECT id, status, contact FROM messages WHERE \(sql.unindexed("session_id")) = ? AND (message_id = ? OR wa_key_id = ?)"
    }

    /// Moves a message's status up to the receipt's, never down: a `message.ack` event when it moves.
    private func raise(rowId: Int64, from current: MessageStatus, to receipt: Receipt, chat: ChatKey, now: String) throws {
        guard receipt.ack.status.rank > current.rank else { return }
        try db.write(
            "UPDATE messages SET status = ?, ack = ?, ack_at = ?, ack_received_at = ?, updated_at = ? WHERE id = ?",
            receipt.ack.status.rawValue, receipt.ack.rawValue, receipt.time, receipt.receivedAt, now, rowId
        )
        // Written directly in the common case (a fifth of all events): the values need no escaping.
        let detail: String
        if receipt.errorCode == nil, receipt.errorTitle == nil {
            detail = #"{"ack":{"status":"\#(receipt.ack.status.rawValue)","ack":\#(receipt.ack.rawValue),"at":"\#(receipt.time)"}}"#
        } else {
            var ack: [(String, JSONValue)] = [("status", .string(receipt.ack.status.rawValue)), ("ack", .integer(Int64(receipt.ack.rawValue))),
                                              ("at", .string(receipt.time))]
            if let code = receipt.errorCode { ack.append(("error_code", .integer(code))) }
            if let title = receipt.errorTitle { ack.append(("error_title", .string(title))) }
            detail = String(decoding: JSONValue.object([("ack", .object(ack))]).serialized, as: UTF8.self)
        }
        try logEvent(.messageAck, message: rowId, in: chat, deliveryId: receipt.deliveryId, occurredAt: receipt.time, now: now, detail: detail)
    }
}
