import Foundation
import InboxEvents
import InboxQuery
import InboxStore

/// The forwarding ledger's reads (the read pool's connections; writes go through the writer).
enum ForwardingQueries {
    /// The first held event of each chat whose next attempt is due, oldest first, skipping chats
    /// being retried now.
    static func dueRetries(of target: String, now: Date, excluding busy: Set<ChatKey>, limit: Int, in db: any ReadConnection) throws
        -> [TargetForwarder.DueRetry]
    {
        let rows = try db.query(
            """
            SELECT r.seq, r.session_id, r.chat, r.attempts, r.first_failed_at FROM forwarding_retries r
            WHERE r.target = ? AND r.status = 'pending' AND (r.next_attempt_at IS NULL OR r.next_attempt_at <= ?)
              AND NOT EXISTS (SELECT 1 FROM forwarding_retries f WHERE f.target = r.target AND f.status = 'pending'
                              AND f.session_id = r.session_id AND f.chat = r.chat AND f.seq < r.seq)
            ORDER BY r.seq LIMIT ?
            """,
            arguments: [target, Timestamps.iso(now), limit + busy.count]
        )
        let heads = rows.compactMap { row -> (seq: Int64, chat: ChatKey, attempts: Int, firstFailedAt: Date?)? in
            let chat = ChatKey(session: row.string(1) ?? "", chat: row.string(2) ?? "")
            guard !busy.contains(chat) else { return nil }
            return (Int64(row.int(0) ?? 0), chat, row.int(3) ?? 0, row.string(4).flatMap(Timestamps.parse))
        }.prefix(limit)
        let events = Dictionary(uniqueKeysWithValues: try InboxEventLog.read(in: db, seqs: heads.map(\.seq)).map { ($0.seq, $0) })
        return heads.compactMap { head in
            events[head.seq].map { TargetForwarder.DueRetry(event: $0, chat: head.chat, attempts: head.attempts, firstFailedAt: head.firstFailedAt) }
        }
    }

    /// Which of `chats` still have events waiting in the ledger.
    static func heldChats(of target: String, among chats: Set<ChatKey>, in db: any ReadConnection) throws -> Set<ChatKey> {
        var held = Set<ChatKey>()
        for chat in chats where try db.queryFirst(
            "SELECT 1 FROM forwarding_retries WHERE target = ? AND status = 'pending' AND session_id = ? AND chat = ? LIMIT 1",
            arguments: [target, chat.session, chat.chat]
        ) != nil {
            held.insert(chat)
        }
        return held
    }
}
