import InboxEvents
import Foundation

/// Work that keeps tables bounded over months of traffic. The service runs each step between
/// webhook batches on the writer thread; each is one short transaction over a few hundred rows,
/// so ingest never waits for more than a few milliseconds.
extension InboxWriter {
    /// Moves receipts that have waited longer than the cutoff for their message out of
    /// `pending_acks` into `expired_pending_acks`, `limit` at a time; returns how many moved.
    /// Reactions, edits and deletions that waited as long (`pending_message_changes`) are dropped
    /// in the same pass: their deliveries keep the bodies, so a replay can still apply them.
    @discardableResult
    public func expirePendingAcks(receivedBefore cutoff: Date, limit: Int = 500, now: Date = Date()) throws -> Int {
        let cutoffText = Timestamps.iso(cutoff)
        return try db.transaction {
            try db.run(
                """
                INSERT INTO expired_pending_acks (id, session_id, message_ref, ack, delivery_id, received_at, expired_at)
                SELECT id, session_id, message_ref, ack, delivery_id, received_at, ? FROM pending_acks
                WHERE received_at < ? ORDER BY received_at LIMIT ?
                """,
                Timestamps.iso(now), cutoffText, limit
            )
            let moved = try db.run(
                """
                DELETE FROM pending_acks WHERE id IN (
                    SELECT id FROM pending_acks WHERE received_at < ? ORDER BY received_at LIMIT ?)
                """,
                cutoffText, limit
            )
            if moved > 0 {
                try db.run("UPDATE store_state SET value = value + ? WHERE name = 'expired_pending_acks'", moved)
            }
            try db.run(
                """
                DELETE FROM pending_message_changes WHERE id IN (
                    SELECT id FROM pending_message_changes WHERE received_at < ? ORDER BY received_at LIMIT ?)
                """,
                cutoffText, limit
            )
            return moved
        }
    }

    /// Empties `body` of applied deliveries received before the cutoff, looking at `scan`
    /// deliveries in id order from where the last pass stopped; returns how many bodies it cleared.
    ///
    /// The row and its `body_sha256` stay, so a late retry is still a duplicate. Failed and ignored
    /// deliveries keep their bodies: `replay` needs them. `bodies_removed_through_id` records how
    /// far retention has gone, which is how far back the live stream can still resume.
    @discardableResult
    public func removeOldBodies(receivedBefore cutoff: Date, scan: Int = 500, now: Date = Date()) throws -> Int {
        let cutoffText = Timestamps.iso(cutoff)
        return try db.transaction {
            let through = Int64(try db.queryFirst("SELECT value FROM store_state WHERE name = 'bodies_removed_through_id'")?.int(0) ?? 0)
            let rows = try db.query(
                "SELECT id, received_at, status FROM webhook_deliveries WHERE id > ? ORDER BY id LIMIT ?",
                through, scan
            )
            var lastOld = through
            var cleared = 0
            for row in rows {
                // Ids grow with arrival time: the first young delivery ends this pass.
                guard let receivedAt = row.string(1), receivedAt < cutoffText else { break }
                let id = Int64(row.int(0) ?? 0)
                if row.string(2) == DeliveryStatus.applied.rawValue {
                    cleared += try db.run(
                        "UPDATE webhook_deliveries SET body = '', body_removed_at = ? WHERE id = ? AND body_removed_at IS NULL",
                        Timestamps.iso(now), id
                    )
                }
                lastOld = id
            }
            if lastOld > through {
                try db.run("UPDATE store_state SET value = ? WHERE name = 'bodies_removed_through_id'", lastOld)
            }
            return cleared
        }
    }
}
