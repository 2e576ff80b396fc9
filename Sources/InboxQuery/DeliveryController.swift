import Foundation
import Hummingbird
import InboxHTTP
import InboxStore

/// `/api/webhooks/*`: the delivery log, its statistics and the receiver's health.
public struct DeliveryController<Context: RequestContext>: Sendable {
    let pool: ReadPool
    /// Deliveries waiting for the writer (from the receiver), for the health report.
    let writerQueueDepth: @Sendable () -> Int

    public init(pool: ReadPool, writerQueueDepth: @escaping @Sendable () -> Int) {
        self.pool = pool
        self.writerQueueDepth = writerQueueDepth
    }

    public func addRoutes(to router: Router<Context>) {
        router.get("/api/webhooks/stats") { _, _ in try await stats() }
        router.get("/api/webhooks/health") { _, _ in try await health() }
        router.get("/api/webhooks/deliveries") { request, _ in try await deliveries(request) }
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

    func stats() async throws -> Response {
        let body = try await pool.read { db -> Stats.Body in
            let totals = try db.queryFirst("""
                SELECT count(*), COALESCE(sum(status = 'applied'), 0), COALESCE(sum(status = 'failed'), 0),
                       COALESCE(sum(status = 'ignored'), 0), COALESCE(avg(processing_ms), 0), max(received_at)
                FROM webhook_deliveries
                """)
            let events = try db.query("SELECT event, count(*) FROM webhook_deliveries GROUP BY event")
            return Stats.Body(
                totalDeliveries: totals?.int(0) ?? 0, successfulDeliveries: totals?.int(1) ?? 0,
                failedDeliveries: totals?.int(2) ?? 0, ignoredDeliveries: totals?.int(3) ?? 0,
                averageResponseTime: ((totals?.double(4) ?? 0) * 1000).rounded() / 1000,
                lastDelivery: totals?.string(5),
                byEvent: Dictionary(uniqueKeysWithValues: events.map { ($0.string(0) ?? "", $0.int(1) ?? 0) })
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
            let failedPendingRetry: Int
            let failedGivenUp: Int
        }
    }

    /// `degraded` when the database cannot be read, the writer has a backlog, or deliveries failed.
    func health() async throws -> Response {
        let depth = writerQueueDepth()
        let read = try? await pool.read { db -> (String?, Int, Int) in
            let last = try db.queryFirst("SELECT max(id) FROM webhook_deliveries")?.int(0)
            let lastAt = try last.flatMap { try db.queryFirst("SELECT received_at FROM webhook_deliveries WHERE id = ?", $0)?.string(0) }
            let pending = try db.queryFirst(
                "SELECT count(*) FROM webhook_deliveries WHERE status = 'failed' AND next_attempt_at IS NOT NULL"
            )?.int(0) ?? 0
            let givenUp = try db.queryFirst(
                "SELECT count(*) FROM webhook_deliveries WHERE status = 'failed' AND next_attempt_at IS NULL"
            )?.int(0) ?? 0
            return (lastAt, pending, givenUp)
        }
        let age = read?.0.flatMap(Timestamps.parse).map { (Date().timeIntervalSince($0) * 10).rounded() / 10 }
        let healthy = read != nil && depth < 1000 && (read?.1 ?? 0) == 0 && (read?.2 ?? 0) == 0
        let body = Health.Body(
            status: healthy ? "healthy" : "degraded", database: read == nil ? "unreachable" : "ok",
            writerQueueDepth: depth, lastDeliveryAt: read?.0, lastDeliveryAgeSeconds: age,
            failedPendingRetry: read?.1 ?? 0, failedGivenUp: read?.2 ?? 0
        )
        return try QueryResponse.json(Health(data: body))
    }

    /// The delivery log, newest first; raw bodies only with `include=body`.
    func deliveries(_ request: Request) async throws -> Response {
        let page = try PageRequest(request, keyParts: 1)
        let includeBody: Bool
        switch try request.parameter("include") {
        case nil: includeBody = false
        case "body": includeBody = true
        default: throw QueryError.badParameter("include", "must be body")
        }
        let status = try request.parameter("status")
        if let status, DeliveryStatus(rawValue: status) == nil {
            throw QueryError.badParameter("status", "must be applied, ignored or failed")
        }
        var query = SelectQuery("SELECT \(DeliveryView.columns(includeBody: includeBody)) FROM webhook_deliveries WHERE 1")
        query.and("status = ?", ifPresent: status)
        query.and("event = ?", ifPresent: try request.parameter("event"))
        query.and("session_id = ?", ifPresent: try request.parameter("session"))
        if page.after != nil { query.and("id < ?", try page.int(0)) }
        let rows = try await query.fetch(pool, orderBy: "id DESC", limit: page.limit + 1, DeliveryView.init)
        return QueryResponse.json(Page(fetched: rows, limit: page.limit) { [String($0.id)] })
    }
}
