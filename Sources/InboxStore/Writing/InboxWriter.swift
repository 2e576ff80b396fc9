import InboxEvents
import Foundation

/// Owns the write connection: every change to the database goes through here, on one thread.
///
/// A batch of deliveries is committed in one transaction (group commit), so durable commits stay
/// cheap under load. Each delivery is applied inside its own savepoint: one bad payload is stored
/// as `failed` with its error and cannot undo its neighbours.
public final class InboxWriter {
    /// After this many attempts a failed delivery waits for `inboxlite replay`.
    public static let maxAttempts = 12

    let db: any SQLDatabase
    private let applier: EventApplier

    /// Only `StoreOwner` makes writers: holding its lock is what makes this the only one.
    convenience init(_ configuration: StoreConfiguration) throws {
        try self.init(database: InboxDatabase.openWriter(configuration))
    }

    /// A writer on an open connection of either engine. SQLite: only `StoreOwner` may call this
    /// (its lock makes this the only writer); PostgreSQL: each node's writer, which serialises
    /// with the others' through the database (see `InboxPostgres`).
    public init(database: any SQLDatabase) throws {
        db = database
        applier = EventApplier(db: db)
        try rollingBack {
            try db.transaction { try applier.mergeContactsSharingAnIdentifier(now: Timestamps.iso(Date())) }
        }
    }

    /// Stores and applies a batch in one transaction; results are in batch order.
    ///
    /// Throws only when the transaction as a whole could not commit (busy, disk full, read-only):
    /// then nothing of the batch was stored and every sender should be told to retry.
    ///
    /// The batch is first applied without per-delivery savepoints (a savepoint copies every page it
    /// touches, about 15% of the writer's time). If any delivery fails to apply, that attempt is
    /// rolled back whole and the batch is applied again with each delivery isolated in a savepoint,
    /// so the failure is recorded and its neighbours still land.
    public func commit(_ batch: [IncomingDelivery], now: Date = Date()) throws -> [DeliveryResult] {
        do {
            return try applying { try store(batch, isolated: false, now: now) }
        } catch let error as any DatabaseError where error.isTransient {
            throw error
        } catch {
            // A delivery failed to apply. On PostgreSQL the failure may surface a statement or a
            // delivery later (writes are pipelined): the isolated pass finds which one it was.
            return try applying { try store(batch, isolated: true, now: now) }
        }
    }

    /// One transaction that applies deliveries: the applier's start and finish around `body`,
    /// and its caches forgotten if it rolls back.
    private func applying<T>(_ body: () throws -> T) throws -> T {
        try rollingBack {
            try db.transaction {
                try applier.beginTransaction()
                let result = try body()
                try applier.finishTransaction()
                return result
            }
        }
    }

    /// Runs `body`; if it throws (a transaction or savepoint rolled back), the applier forgets
    /// what it cached about rows that may be gone.
    private func rollingBack<T>(_ body: () throws -> T) rethrows -> T {
        do {
            return try body()
        } catch {
            applier.forgetSessions()
            throw error
        }
    }

    private func store(_ batch: [IncomingDelivery], isolated: Bool, now: Date) throws -> [DeliveryResult] {
        let nowText = Timestamps.iso(now)
        var results: [DeliveryResult] = []
        results.reserveCapacity(batch.count)
        for (delivery, insertedId) in zip(batch, try insertDeliveries(batch, now: now, nowText: nowText)) {
            guard let id = insertedId else {
                results.append(.duplicate)
                continue
            }
            let context = EventApplier.Delivery(
                id: id, sessionId: delivery.sessionId, envelope: delivery.envelope,
                receivedAt: delivery.receivedAt, now: nowText
            )
            let status: DeliveryStatus
            if isolated {
                status = try applyIsolated(context, attempts: 1, now: now)
            } else {
                status = try applier.apply(context) == .applied ? .applied : .ignored
                if status == .ignored { try record(id: id, status: .ignored, attempts: 1, error: nil, now: now) }
            }
            results.append(.stored(id: id, status: status, merges: applier.state.merges))
        }
        if let announce = db.dialect.announceDeliveries, results.contains(where: { $0 != .duplicate }) {
            try db.write(announce)
        }
        return results
    }

    /// Stores the batch's rows, recorded as applied with their ingest latency (the rare other
    /// outcomes update the row), several rows a statement: on PostgreSQL each statement is a round
    /// trip. Answers each delivery's id in batch order, nil for a duplicate — of a stored body, or
    /// of an earlier one in the batch.
    private func insertDeliveries(_ batch: [IncomingDelivery], now: Date, nowText: String) throws -> [Int64?] {
        var ids: [Int64?] = []
        ids.reserveCapacity(batch.count)
        var start = batch.startIndex
        while start < batch.endIndex {
            let chunk = batch[start..<min(start + Self.deliveriesPerInsert, batch.endIndex)]
            start = chunk.endIndex
            var values: [any SQLBindable] = []
            values.reserveCapacity(chunk.count * 9)
            for delivery in chunk {
                let latency = max(0, now.timeIntervalSince(delivery.receivedAt) * 1000)
                let row: [any SQLBindable] = [
                    // The parser accepted the body, so it is valid UTF-8: stored as text, byte for byte.
                    delivery.envelope.event, delivery.sessionId, delivery.bodySHA256, String(decoding: delivery.body, as: UTF8.self),
                    Timestamps.iso(delivery.receivedAt), (latency * 1000).rounded() / 1000, nowText,
                    delivery.envelope.provider.rawValue, delivery.envelope.inboxEvent,
                ]
                values.append(contentsOf: row)
            }
            let rows = Array(repeating: "(?, ?, ?, ?, ?, 'applied', ?, ?, ?, ?)", count: chunk.count).joined(separator: ", ")
            var stored: [String: Int64] = [:]
            for row in try db.query(
                """
                INSERT INTO webhook_deliveries (event, session_id, body_sha256, body, received_at, status,
                    processing_ms, applied_at, provider, inbox_event)
                VALUES \(rows) ON CONFLICT (body_sha256) DO NOTHING RETURNING id, body_sha256
                """,
                arguments: values
            ) {
                if let id = row.int(0), let sha = row.string(1) { stored[sha] = Int64(id) }
            }
            // The first of equal bodies in the chunk is the one stored; the others are duplicates.
            for delivery in chunk { ids.append(stored.removeValue(forKey: delivery.bodySHA256)) }
        }
        return ids
    }

    /// Rows one statement inserts at most (a batch's statements come in few distinct texts).
    static let deliveriesPerInsert = 64

    /// Re-applies failed deliveries whose backoff has elapsed; returns how many were tried.
    ///
    /// Looked for without the write lock (almost always there are none), then read again and
    /// applied under it: when several nodes share the database, only one re-applies a delivery.
    @discardableResult
    public func retryDueFailures(now: Date = Date(), limit: Int = 100) throws -> Int {
        let dueSQL = """
            SELECT id, session_id, body, received_at, attempts, provider FROM webhook_deliveries
            \(db.dialect.indexedBy("webhook_deliveries_retry_due"))
            WHERE status = 'failed' AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?
            """
        guard try db.queryFirst(dueSQL, Timestamps.iso(now), 1) != nil else { return 0 }
        return try applying {
            let due = try db.query(dueSQL, Timestamps.iso(now), limit)
            for row in due { _ = try reapply(row, now: now) }
            return due.count
        }
    }

    /// Re-applies every stored delivery with `status`, oldest first, in transactions of `chunk`.
    /// Used after an upgrade that learns a new event, or to retry failures by hand.
    public func replay(status: DeliveryStatus, chunk: Int = 500, now: Date = Date()) throws -> ReplaySummary {
        var summary = ReplaySummary()
        var afterId: Int64 = 0
        while let step = try replayChunk(status: status, after: afterId, chunk: chunk, now: now) {
            summary.add(step.summary)
            afterId = step.lastId
        }
        return summary
    }

    /// Re-applies up to `chunk` deliveries with `status` and an id above `after`, in one
    /// transaction; nil when there are none left. The service runs one chunk at a time between
    /// webhook batches, so a long replay never holds the writer for long. Only deliveries of the
    /// sessions `scope` allows are replayed.
    public func replayChunk(status: DeliveryStatus, after afterId: Int64, chunk: Int = 500, within scope: SessionScope = .everySession,
                            now: Date = Date()) throws -> (summary: ReplaySummary, lastId: Int64)?
    {
        let (scoped, values) = scope.restriction(on: "session_id")
        // Read under the write lock, so a delivery another node re-applies meanwhile is not redone.
        return try applying {
            let rows = try db.query(
                "SELECT id, session_id, body, received_at, attempts, provider FROM webhook_deliveries WHERE status = ? AND id > ?\(scoped) ORDER BY id LIMIT ?",
                arguments: [status.rawValue, afterId] + values + [chunk]
            )
            guard let last = rows.last else { return nil }
            var summary = ReplaySummary()
            for row in rows {
                summary.count(try reapply(row, now: now))
            }
            return (summary, Int64(last.int(0) ?? 0))
        }
    }

    /// Runs a passive WAL checkpoint on the writer's own connection, between transactions, so it
    /// can complete and the WAL starts over (see `WALCheckpointer`). Answers whether it copied the
    /// whole log: false only if the checkpoint thread held the checkpoint at that moment, in which
    /// case it asks again after its next pass.
    @discardableResult
    public func checkpoint() throws -> Bool {
        guard let sqlite = db as? SQLiteConnection else { return true }
        return try PassiveCheckpoint.run(on: sqlite).copiedWholeLog
    }

    // MARK: - Applying

    /// Applies one delivery inside a savepoint and records its outcome on its row.
    private func applyIsolated(_ delivery: EventApplier.Delivery, attempts: Int, now: Date) throws -> DeliveryStatus {
        do {
            let outcome = try rollingBack {
                try db.savepoint("apply_delivery") {
                    let outcome = try applier.apply(delivery)
                    try applier.flushEvents()  // inside its savepoint: they go if it rolls back
                    return outcome
                }
            }
            let status: DeliveryStatus = outcome == .applied ? .applied : .ignored
            try record(id: delivery.id, status: status, attempts: attempts, error: nil, now: now,
                       inboxEvent: delivery.envelope.inboxEvent)
            return status
        } catch let error as any DatabaseError where error.isTransient {
            throw error  // the database, not the payload: the whole batch must be retried
        } catch let error as PayloadError {
            // The payload itself is invalid: retrying cannot fix it, so it fails once, for good.
            try record(id: delivery.id, status: .failed, attempts: attempts, error: error.message, retry: false, now: now)
            return .failed
        } catch {
            try record(id: delivery.id, status: .failed, attempts: attempts, error: "\(error)", now: now)
            return .failed
        }
    }

    /// Writes a delivery's outcome; a retryable failure gets its next retry time (none after
    /// `maxAttempts`).
    private func record(
        id: Int64, status: DeliveryStatus, attempts: Int, error: String?, retry: Bool = true, now: Date, inboxEvent: String? = nil
    ) throws {
        let nextAttempt: String? = status == .failed && retry && attempts < Self.maxAttempts
            ? Timestamps.iso(now.addingTimeInterval(Self.backoff(afterAttempt: attempts))) : nil
        try db.write(
            """
            UPDATE webhook_deliveries SET status = ?, attempts = ?, last_error = ?,
                applied_at = ?, next_attempt_at = ?, inbox_event = ? WHERE id = ?
            """,
            status.rawValue, attempts, error, status == .failed ? nil : Timestamps.iso(now), nextAttempt,
            status == .applied ? inboxEvent : nil, id
        )
    }

    /// Re-applies a stored delivery row (`id, session_id, body, received_at, attempts, provider`).
    private func reapply(_ row: SQLRow, now: Date) throws -> DeliveryStatus {
        let id = Int64(row.int(0) ?? 0)
        let attempts = (row.int(4) ?? 1) + 1
        let receivedAt = row.string(3).flatMap(Timestamps.parse) ?? now
        let envelope: WebhookEnvelope
        do {
            envelope = try WebhookEnvelope.parse(row[2].bytes ?? [], provider: row.string(5).flatMap(Provider.init(rawValue:)) ?? .inboxHub)
        } catch {
            try db.run(
                "UPDATE webhook_deliveries SET attempts = ?, last_error = ?, next_attempt_at = NULL WHERE id = ?",
                attempts, "stored body is not a webhook envelope: \(error.message)", id
            )
            return .failed
        }
        let delivery = EventApplier.Delivery(
            id: id, sessionId: row.string(1), envelope: envelope, receivedAt: receivedAt, now: Timestamps.iso(now)
        )
        return try applyIsolated(delivery, attempts: attempts, now: now)
    }

    /// Exponential backoff: 2 s, 4 s, 8 s … capped at an hour.
    static func backoff(afterAttempt attempts: Int) -> TimeInterval {
        min(3600, pow(2, Double(min(attempts, 12))))
    }
}

/// How many replayed deliveries ended in each status.
public struct ReplaySummary: Sendable, Equatable {
    public var applied = 0
    public var ignored = 0
    public var failed = 0

    public init() {}

    mutating func count(_ status: DeliveryStatus) {
        switch status {
        case .applied: applied += 1
        case .ignored: ignored += 1
        case .failed: failed += 1
        }
    }

    public var total: Int { applied + ignored + failed }

    public mutating func add(_ other: ReplaySummary) {
        applied += other.applied
        ignored += other.ignored
        failed += other.failed
    }
}
