import InboxEvents
import Foundation

/// A chat of a session: events of one (session, chat) stay in order wherever they go (a
/// forwarding target gets them in commit order). Session-wide events share the chat "".
public struct ChatKey: Hashable, Sendable {
    public let session: String
    public let chat: String

    public init(session: String, chat: String) {
        self.session = session
        self.chat = chat
    }
}

/// Where a target's forwarding resumes: its position in the event log and the chats that wait
/// behind an event being retried.
public struct ForwardingClaim: Sendable {
    public let forwardedThrough: Int64
    public let heldChats: Set<ChatKey>
}

/// An event the target has not accepted, kept in `forwarding_retries`.
public struct HeldForwardingEvent: Sendable {
    public let seq: Int64
    public let chat: ChatKey
    /// 0: it waits behind an earlier event of its chat; else the attempts made.
    public let attempts: Int
    public let nextAttemptAt: Date?
    public let error: String?
    public let status: Int?

    public init(seq: Int64, chat: ChatKey, attempts: Int = 0, nextAttemptAt: Date? = nil, error: String? = nil, status: Int? = nil) {
        self.seq = seq
        self.chat = chat
        self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt
        self.error = error
        self.status = status
    }
}

/// What became of an attempt to re-send a held event.
public enum ForwardingRetryOutcome: Sendable {
    case delivered
    case retry(attempts: Int, at: Date, error: String, status: Int?)
    case dead(attempts: Int, error: String, status: Int?)
}

/// What a forwarder learned since its last save, written in one transaction.
public struct ForwardingChanges: Sendable {
    /// Every event up to here is delivered, held, or not for this target.
    public var forwardedThrough: Int64?
    public var delivered = 0
    public var failedAttempts = 0
    public var lastError: String?
    public var lastErrorAt: Date?
    public var lastDeliveredAt: Date?
    public var held: [HeldForwardingEvent] = []
    public var retried: [(seq: Int64, outcome: ForwardingRetryOutcome)] = []

    public init() {}

    public var isEmpty: Bool {
        forwardedThrough == nil && delivered == 0 && failedAttempts == 0 && held.isEmpty && retried.isEmpty
    }
}

/// The forwarding ledger: each target's position, counts and held events. Every change goes
/// through the writer like any other write; a target is forwarded by one node at a time, the
/// holder of its lease (with one SQLite process, always that process).
extension InboxWriter {
    /// Thrown inside a save whose lease another node has taken: the save rolls back.
    private struct LeaseLost: Error {}

    /// Registers the target (a new one starts after `startAfter`, the log's head when this process
    /// started: it gets the events from then on) and takes its lease if it is free, expired or
    /// already ours. Nil: another node forwards it.
    public func claimForwarding(target: String, url: String, startAfter: Int64, holder: String, lease: TimeInterval, now: Date = Date()) throws
        -> ForwardingClaim?
    {
        let nowText = Timestamps.iso(now)
        return try db.transaction {
            try db.run(
                """
                INSERT INTO forwarding_targets (name, url, forwarded_through, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (name) DO UPDATE SET url = excluded.url
                """,
                target, url, startAfter, nowText, nowText
            )
            // One process owns a SQLite file: its lease is always its own (a restart need not wait).
            let free = db.dialect.hasOtherWriters ? " AND (lease_holder IS NULL OR lease_holder = ? OR lease_expires_at < ?)" : ""
            let arguments: [any SQLBindable] = [holder, Timestamps.iso(now.addingTimeInterval(lease)), nowText, target]
                + (db.dialect.hasOtherWriters ? [holder, nowText] : [])
            guard try db.run(
                "UPDATE forwarding_targets SET lease_holder = ?, lease_expires_at = ?, updated_at = ? WHERE name = ?\(free)",
                arguments: arguments
            ) == 1, let row = try db.queryFirst("SELECT forwarded_through FROM forwarding_targets WHERE name = ?", target)
            else { return nil }
            let held = try db.query(
                "SELECT DISTINCT session_id, chat FROM forwarding_retries WHERE target = ? AND status = 'pending'", target
            ).map { ChatKey(session: $0.string(0) ?? "", chat: $0.string(1) ?? "") }
            return ForwardingClaim(forwardedThrough: Int64(row.int(0) ?? 0), heldChats: Set(held))
        }
    }

    /// Saves a forwarder's progress and renews its lease; false (nothing saved) when another node
    /// holds the lease now.
    public func saveForwarding(_ changes: ForwardingChanges, target: String, holder: String, lease: TimeInterval, now: Date = Date())
        throws -> Bool
    {
        let nowText = Timestamps.iso(now)
        do {
            try db.transaction {
                guard try db.run(
                    """
                    UPDATE forwarding_targets SET lease_expires_at = ?, updated_at = ?,
                        forwarded_through = \(db.dialect.greatest)(forwarded_through, COALESCE(?, forwarded_through)),
                        delivered = delivered + ?, failed_attempts = failed_attempts + ?,
                        last_error = COALESCE(?, last_error), last_error_at = COALESCE(?, last_error_at),
                        last_delivered_at = COALESCE(?, last_delivered_at),
                        dead = dead + ?
                    WHERE name = ? AND lease_holder = ?
                    """,
                    Timestamps.iso(now.addingTimeInterval(lease)), nowText, changes.forwardedThrough, changes.delivered,
                    changes.failedAttempts, changes.lastError, changes.lastErrorAt.map(Timestamps.iso),
                    changes.lastDeliveredAt.map(Timestamps.iso), changes.retried.count { if case .dead = $0.outcome { true } else { false } },
                    target, holder
                ) == 1 else { throw LeaseLost() }
                for event in changes.held {
                    try db.run(
                        """
                        INSERT INTO forwarding_retries (target, seq, session_id, chat, status, attempts, first_failed_at, next_attempt_at,
                            last_error, last_status, updated_at) VALUES (?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?)
                        ON CONFLICT (target, seq) DO NOTHING
                        """,
                        target, event.seq, event.chat.session, event.chat.chat, event.attempts, event.attempts > 0 ? nowText : nil,
                        event.nextAttemptAt.map(Timestamps.iso), event.error, event.status, nowText
                    )
                }
                for (seq, outcome) in changes.retried {
                    switch outcome {
                    case .delivered:
                        try db.run("DELETE FROM forwarding_retries WHERE target = ? AND seq = ?", target, seq)
                    case .retry(let attempts, let at, let error, let status):
                        try db.run(
                            """
                            UPDATE forwarding_retries SET attempts = ?, next_attempt_at = ?, last_error = ?, last_status = ?,
                                first_failed_at = COALESCE(first_failed_at, ?), updated_at = ? WHERE target = ? AND seq = ?
                            """,
                            attempts, Timestamps.iso(at), error, status, nowText, nowText, target, seq
                        )
                    case .dead(let attempts, let error, let status):
                        try db.run(
                            """
                            UPDATE forwarding_retries SET status = 'dead', attempts = ?, next_attempt_at = NULL, last_error = ?,
                                last_status = ?, first_failed_at = COALESCE(first_failed_at, ?), updated_at = ? WHERE target = ? AND seq = ?
                            """,
                            attempts, error, status, nowText, nowText, target, seq
                        )
                    }
                }
            }
            return true
        } catch is LeaseLost {
            return false
        }
    }

    /// Gives up a lease (a node that stops lets another take over at once).
    public func releaseForwarding(target: String, holder: String) throws {
        try db.transaction {
            try db.run("UPDATE forwarding_targets SET lease_holder = NULL, lease_expires_at = NULL WHERE name = ? AND lease_holder = ?",
                       target, holder)
        }
    }

    /// Dead letters back to the retry queue, sent again as soon as possible: every one of
    /// `target` (nil: of every target), or only `seq`. Returns how many.
    public func resendDeadForwarding(target: String?, seq: Int64?, now: Date = Date()) throws -> Int {
        var conditions = ""
        var arguments: [any SQLBindable] = [Timestamps.iso(now)]
        if let target {
            conditions += " AND target = ?"
            arguments.append(target)
        }
        if let seq {
            conditions += " AND seq = ?"
            arguments.append(seq)
        }
        return try db.transaction {
            try db.run(
                """
                UPDATE forwarding_retries SET status = 'pending', attempts = 0, first_failed_at = NULL, next_attempt_at = NULL,
                    updated_at = ? WHERE status = 'dead'\(conditions)
                """,
                arguments: arguments
            )
        }
    }
}
