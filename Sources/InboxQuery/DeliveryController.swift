import InboxEvents
import Foundation
import Hummingbird
import InboxHTTP
import InboxStore

/// `/api/webhooks/*`: the delivery log, its statistics and the receiver's health.
public struct DeliveryController<Context: AuthorizedRequestContext>: Sendable {
    let pool: ReadPool
    /// Deliveries waiting for the writer (from the receiver), for the health report.
    let writerQueueDepth: @Sendable () -> Int
    /// Failures newer than this keep health `degraded`, even once they are no longer retried.
    let failureWindow: TimeInterval

    public init(pool: ReadPool, failureWindow: TimeInterval = 86_400, writerQueueDepth: @escaping @Sendable () -> Int) {
        self.pool = pool
        self.failureWindow = failureWindow
        self.writerQueueDepth = writerQueueDepth
    }

    public func addRoutes(to router: some RouterMethods<Context>) {
        router.get("/api/webhooks/stats") { request, context in
            try await stats(provider: try request.providerParameter(), scope: context.sessionScope())
        }
        router.get("/api/webhooks/health") { _, context in try await health(scope: context.sessionScope()) }
        router.get("/api/webhooks/deliveries") { request, context in try await deliveries(request, scope: context.sessionScope()) }
    }

    /// The guide's statistics shape (camelCase, as the gateway documents it) plus per-event counts.
    struct Stats: Encodable, Sendable {
        let success = true
        let data: Body
        struct Body: Encodable, Sendable {
            let totalDeliveries: Int
            let successfulDeliveries: Int
            let failedDeliveries: Int
            let ignoredDeliveries: Int
            /// Mean milliseconds from a webhook's arrival to its application.
            let averageResponseTime: Double
            let lastDelivery: String?
            let byEvent: [String: Int]
        }
    }

    /// Answered from `delivery_counts` (kept by triggers in the writer's transactions, per
    /// gateway, session, event and status): constant time however long the log is. A token
    /// limited to some sessions counts only those.
    func stats(provider: String?, scope: SessionScope) async throws -> Response {
        let body = try await pool.read { db -> Stats.Body in
            let counts = try DeliveryCounts(db, provider: provider, scope: scope)
            return Stats.Body(
                totalDeliveries: counts.total, successfulDeliveries: counts.byStatus[.applied, default: 0],
                failedDeliveries: counts.byStatus[.failed, default: 0], ignoredDeliveries: counts.byStatus[.ignored, default: 0],
                averageResponseTime: counts.total == 0 ? 0 : (counts.processingMilliseconds / Double(counts.total) * 1000).rounded() / 1000,
                lastDelivery: counts.lastReceivedAt, byEvent: counts.byEvent
            )
        }
        return try .json(Stats(data: body))
    }

    struct Health: Encodable, Sendable {
        let success = true
        let data: Body
        struct Body: Encodable, Sendable {
            let status: String
            let database: String
            let writerQueueDepth: Int
            let lastDeliveryAt: String?
            let lastDeliveryAgeSeconds: Double?
            /// Failed deliveries the writer will still retry.
            let failedPendingRetry: Int
            /// Failed deliveries it will not retry (invalid payloads, attempts used up).
            let failedGivenUp: Int
            /// All failed deliveries, ever.
            let failedTotal: Int
            /// When the newest failed delivery arrived.
            let lastFailureAt: String?
            let totalDeliveries: Int
            /// Receipts waiting for their message, and those that waited too long and were moved out.
            let pendingAcks: Int
            /// Left out for a token limited to some sessions (the count is not kept per session).
            let expiredPendingAcks: Int?
        }
    }

    private struct HealthRead: Sendable {
        var lastAt: String?
        var pendingRetry = 0
        var failedTotal = 0
        var lastFailureAt: String?
        var total = 0
        var pendingAcks = 0
        var expiredAcks = 0
    }

    /// `degraded` when the database cannot be read, the writer has a backlog, a failure is waiting
    /// for a retry, or one arrived within the failure window. Index-only reads and counters; a
    /// token limited to some sessions sees those sessions' deliveries (the writer's queue is the
    /// service's own state, shared by all).
    func health(scope: SessionScope) async throws -> Response {
        let depth = writerQueueDepth()
        let read = try? await pool.read { db -> HealthRead in
            var result = HealthRead()
            let (scoped, values) = scope.restriction(on: "session_id")
            result.pendingRetry = try db.queryFirst(
                """
                SELECT count(*) FROM webhook_deliveries \(db.dialect.indexedBy("webhook_deliveries_retry_due"))
                WHERE status = 'failed' AND next_attempt_at IS NOT NULL\(scoped)
                """, arguments: values
            )?.int(0) ?? 0
            result.lastFailureAt = try db.queryFirst(
                "SELECT received_at FROM webhook_deliveries WHERE status = 'failed' AND status <> 'applied'\(scoped) ORDER BY id DESC LIMIT 1",
                arguments: values
            )?.string(0)
            let counts = try DeliveryCounts(db, scope: scope)
            result.lastAt = counts.lastReceivedAt
            result.failedTotal = counts.byStatus[.failed, default: 0]
            result.total = counts.total
            result.pendingAcks = try db.queryFirst("SELECT count(*) FROM pending_acks WHERE true\(scoped)", arguments: values)?.int(0) ?? 0
            if scope.isEverySession {
                result.expiredAcks = try db.queryFirst("SELECT value FROM store_state WHERE name = 'expired_pending_acks'")?.int(0) ?? 0
            }
            return result
        }
        let now = Date()
        let age = read?.lastAt.flatMap(Timestamps.parse).map { (now.timeIntervalSince($0) * 10).rounded() / 10 }
        let recentFailure = read?.lastFailureAt.flatMap(Timestamps.parse).map { now.timeIntervalSince($0) < failureWindow } ?? false
        let healthy = read != nil && depth < 1000 && (read?.pendingRetry ?? 0) == 0 && !recentFailure
        let body = Health.Body(
            status: healthy ? "healthy" : "degraded", database: read == nil ? "unreachable" : "ok",
            writerQueueDepth: depth, lastDeliveryAt: read?.lastAt, lastDeliveryAgeSeconds: age,
            failedPendingRetry: read?.pendingRetry ?? 0,
            failedGivenUp: max(0, (read?.failedTotal ?? 0) - (read?.pendingRetry ?? 0)),
            failedTotal: read?.failedTotal ?? 0, lastFailureAt: read?.lastFailureAt,
            totalDeliveries: read?.total ?? 0, pendingAcks: read?.pendingAcks ?? 0,
            expiredPendingAcks: scope.isEverySession ? read?.expiredAcks ?? 0 : nil
        )
        return try QueryResponse.json(Health(data: body))
    }

    /// The delivery log, newest first; raw bodies only with `include=body`.
    func deliveries(_ request: Request, scope: SessionScope) async throws -> Response {
        let page = try PageRequest(request, keyParts: 1)
        let includeBody = try request.choiceParameter("include", ["body"]) != nil
        let status = try request.choiceParameter("status", DeliveryStatus.allCases.map(\.rawValue))
        var query = SelectQuery("FROM webhook_deliveries WHERE true")
        if let status {
            // Ignored and failed deliveries are few and have their own (partial) index; the
            // literal condition is what lets SQLite use it.
            query.and(status == DeliveryStatus.applied.rawValue ? "status = ?" : "status = ? AND status <> 'applied'", status)
        }
        query.and("event = ?", ifPresent: try request.parameter("event"))
        query.and("session_id = ?", ifPresent: try request.parameter("session"))
        query.scoped("session_id", to: scope)
        query.and("provider = ?", ifPresent: try request.providerParameter())
        if page.after != nil { query.and("id < ?", try page.int(0)) }
        return try await query.page(pool, ReadModels.delivery(includeBody: includeBody), orderBy: "id DESC", limit: page.limit, cursor: ["id"])
    }
}

/// The `delivery_counts` table summed by status and by event (a row per gateway, session, event
/// and status: a few per session).
struct DeliveryCounts {
    var byStatus: [DeliveryStatus: Int] = [:]
    var byEvent: [String: Int] = [:]
    var total = 0
    var processingMilliseconds = 0.0
    /// When the newest delivery counted arrived.
    var lastReceivedAt: String?

    /// All gateways, or one; the sessions `scope` may see.
    init(_ db: any SQLDatabase, provider: String? = nil, scope: SessionScope = .everySession) throws {
        let (scoped, values) = scope.restriction(on: "session_id")
        let sql = "SELECT event, status, deliveries, processing_ms_total, last_delivery_id FROM delivery_counts WHERE deliveries > 0"
            + (provider == nil ? "" : " AND provider = ?") + scoped
        var lastId: Int64 = 0
        for row in try db.query(sql, arguments: (provider.map { [$0] } ?? []) + values) {
            lastId = max(lastId, Int64(row.int(4) ?? 0))
            let count = row.int(2) ?? 0
            if let status = row.string(1).flatMap(DeliveryStatus.init(rawValue:)) { byStatus[status, default: 0] += count }
            byEvent[row.string(0) ?? "", default: 0] += count
            total += count
            processingMilliseconds += row.double(3) ?? 0
        }
        lastReceivedAt = try db.queryFirst("SELECT received_at FROM webhook_deliveries WHERE id = ?", lastId)?.string(0)
    }
}
