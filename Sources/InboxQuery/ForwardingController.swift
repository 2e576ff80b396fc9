import Foundation
import Hummingbird
import InboxEvents
import InboxHTTP
import InboxStore

/// A configured forwarding target as the query side shows it (never its secret).
public struct ForwardingTargetView: Sendable {
    public let name: String
    public let url: String
    public let scope: SessionScope
    public let types: Set<String>?

    public init(name: String, url: String, scope: SessionScope, types: Set<String>?) {
        self.name = name
        self.url = url
        self.scope = scope
        self.types = types
    }
}

/// `/api/forwarding` and `/api/forwarding/dead-letters`: how forwarding to each target stands,
/// read from the ledger, so every node answers the same.
public struct ForwardingController<Context: AuthorizedRequestContext>: Sendable {
    let pool: ReadPool
    let targets: [ForwardingTargetView]

    public init(pool: ReadPool, targets: [ForwardingTargetView]) {
        self.pool = pool
        self.targets = targets
    }

    public func addRoutes(to router: some RouterMethods<Context>) {
        router.get("/api/forwarding") { _, _ in try await status() }
        router.get("/api/forwarding/dead-letters") { request, _ in try await deadLetters(request) }
    }

    /// Per configured target: its position, what waits (not sent yet, or held for a retry), the
    /// oldest waiting event's age, counts, and the last error.
    func status() async throws -> Response {
        let statuses = try await Self.statuses(of: targets, pool: pool)
        var json = JSONWriter()
        json.object { json in
            json.key("data")
            json.array { json in
                for status in statuses { status.write(to: &json) }
            }
        }
        return .json(bytes: json.bytes)
    }

    /// Every target's standing, read in one go (the API and the metrics' backlog gauge).
    public static func statuses(of targets: [ForwardingTargetView], pool: ReadPool) async throws -> [ForwardingStatus] {
        try await pool.read { db in
            let now = Date()
            return try targets.map { try ForwardingStatus(of: $0, in: db, now: now) }
        }
    }

    /// A target's dead letters, oldest first (`target` may be left out when only one is configured).
    func deadLetters(_ request: Request) async throws -> Response {
        let page = try PageRequest(request, keyParts: 1)
        let target: String
        if let named = try request.parameter("target", maxLength: 64) {
            guard targets.contains(where: { $0.name == named }) else { throw QueryError.notFound("forwarding target \(named)") }
            target = named
        } else if targets.count == 1 {
            target = targets[0].name
        } else {
            throw QueryError.badParameter("target", targets.isEmpty ? "is not a configured forwarding target (none is configured)"
                                          : "is required when several targets are configured")
        }
        var query = SelectQuery("FROM forwarding_retries r JOIN inbox_events e ON e.seq = r.seq WHERE r.status = 'dead' AND r.target = ?", target)
        if page.after != nil { query.and("r.seq > ?", try page.int(0)) }
        return try await query.page(pool, ReadModels.forwardingDeadLetter, orderBy: "r.seq", limit: page.limit, cursor: ["seq"])
    }
}

/// How forwarding to one target stands.
public struct ForwardingStatus: Sendable {
    public let name: String
    let url: String
    let position: Int64
    /// Events after the position that are for this target.
    public let notSentYet: Int
    /// Events held in the ledger for a retry (or behind one).
    public let waitingForRetry: Int
    public let deadLetters: Int
    let oldestPendingAt: String?
    let oldestPendingAge: Double?
    let delivered: Int
    let failedAttempts: Int
    let deadEver: Int
    let lastError: String?
    let lastErrorAt: String?
    let lastDeliveredAt: String?
    let forwardedBy: String?
    let leaseExpiresAt: String?

    public var backlog: Int { notSentYet + waitingForRetry }

    init(of target: ForwardingTargetView, in db: any ReadConnection, now: Date) throws {
        let row = try db.queryFirst(
            """
            SELECT forwarded_through, delivered, failed_attempts, dead, last_error, last_error_at, last_delivered_at, lease_holder,
                lease_expires_at FROM forwarding_targets WHERE name = ?
            """,
            arguments: [target.name]
        )
        position = Int64(row?.int(0) ?? 0)
        // Not sent yet: the target's events after its position (none before it first ran).
        let (filtered, values) = InboxEventLog.filter(scope: target.scope, types: target.types, table: "e")
        let unsent = row == nil ? nil : try db.queryFirst(
            "SELECT count(*), min(e.recorded_at) FROM inbox_events e WHERE e.seq > ?\(filtered)", arguments: [position] + values
        )
        var held = 0, dead = 0
        for counted in try db.query("SELECT status, count(*) FROM forwarding_retries WHERE target = ? GROUP BY status", arguments: [target.name]) {
            if counted.string(0) == "dead" { dead = counted.int(1) ?? 0 } else { held = counted.int(1) ?? 0 }
        }
        let oldestHeld = try db.queryFirst(
            """
            SELECT min(e.recorded_at) FROM forwarding_retries r JOIN inbox_events e ON e.seq = r.seq
            WHERE r.target = ? AND r.status = 'pending'
            """,
            arguments: [target.name]
        )?.string(0)
        let oldest = [unsent?.string(1), oldestHeld].compactMap { $0 }.min()
        name = target.name
        url = target.url
        notSentYet = unsent?.int(0) ?? 0
        waitingForRetry = held
        deadLetters = dead
        oldestPendingAt = oldest
        oldestPendingAge = oldest.flatMap(Timestamps.parse).map { max(0, (now.timeIntervalSince($0) * 1000).rounded() / 1000) }
        delivered = row?.int(1) ?? 0
        failedAttempts = row?.int(2) ?? 0
        deadEver = row?.int(3) ?? 0
        lastError = row?.string(4)
        lastErrorAt = row?.string(5)
        lastDeliveredAt = row?.string(6)
        forwardedBy = row?.string(7)
        leaseExpiresAt = row?.string(8)
    }

    func write(to json: inout JSONWriter) {
        json.object { json in
            json.key("name"); json.string(name)
            json.key("url"); json.string(url)
            json.key("forwarded_through"); json.integer(position)
            json.key("backlog"); json.integer(Int64(backlog))
            json.key("not_sent_yet"); json.integer(Int64(notSentYet))
            json.key("waiting_for_retry"); json.integer(Int64(waitingForRetry))
            json.key("dead_letters"); json.integer(Int64(deadLetters))
            json.key("oldest_pending_at"); json.string(oldestPendingAt)
            json.key("oldest_pending_age_seconds"); json.double(oldestPendingAge)
            json.key("delivered"); json.integer(Int64(delivered))
            json.key("failed_attempts"); json.integer(Int64(failedAttempts))
            json.key("dead_ever"); json.integer(Int64(deadEver))
            json.key("last_error"); json.string(lastError)
            json.key("last_error_at"); json.string(lastErrorAt)
            json.key("last_delivered_at"); json.string(lastDeliveredAt)
            json.key("forwarded_by"); json.string(forwardedBy)
            json.key("lease_expires_at"); json.string(leaseExpiresAt)
        }
    }
}
