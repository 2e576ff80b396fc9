import Foundation
import Hummingbird
import Prometheus
import InboxStore
import Synchronization

/// The service's Prometheus metrics, in one registry per application (so tests stay isolated).
public final class InboxMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    private let queueDepthGauge: Gauge
    private let sseClientsGauge: Gauge
    private let poolInUseGauge: Gauge
    private let poolWaitingGauge: Gauge
    private let batchSizes: ValueHistogram
    private let ingestLatency: DurationHistogram
    private let deliveryCounters = SeriesCache<DeliveryKey, Counter>()
    private let rejectionCounters = SeriesCache<String, Counter>()
    private let queryHistograms = SeriesCache<QueryKey, DurationHistogram>()
    private let forwardingAttempts = SeriesCache<ForwardingKey, Counter>()
    private let forwardingLatency = SeriesCache<String, DurationHistogram>()
    private let forwardingDead = SeriesCache<String, Counter>()
    private let forwardingBacklog = SeriesCache<String, Gauge>()

    /// Values sampled when /metrics is scraped.
    public struct Samples: Sendable {
        public var writerQueueDepth: @Sendable () -> Int
        public var sseClients: @Sendable () -> Int
        /// The database's connection pool: queries running on a connection, and waiting for one.
        public var databasePool: @Sendable () -> (inUse: Int, waiting: Int)
        /// Each forwarding target's backlog (events not delivered yet), read for this scrape.
        public var forwardingBacklog: [String: Int]
        public init(writerQueueDepth: @escaping @Sendable () -> Int, sseClients: @escaping @Sendable () -> Int,
                    databasePool: @escaping @Sendable () -> (inUse: Int, waiting: Int), forwardingBacklog: [String: Int] = [:]) {
            self.writerQueueDepth = writerQueueDepth
            self.sseClients = sseClients
            self.databasePool = databasePool
            self.forwardingBacklog = forwardingBacklog
        }
    }

    /// - Parameter engine: the database engine, a label on the pool's gauges.
    public init(engine: StoreEngine = .sqlite) {
        queueDepthGauge = registry.makeGauge(descriptor: .inbox("writer_queue_depth", unit: "", help: "Deliveries waiting for the writer."), labels: [])
        poolInUseGauge = registry.makeGauge(
            descriptor: .inbox("db_pool_in_use", unit: "", help: "Queries running on a database connection now."),
            labels: [("engine", engine.rawValue)]
        )
        poolWaitingGauge = registry.makeGauge(
            descriptor: .inbox("db_pool_waiting", unit: "", help: "Queries admitted and waiting for a database connection."),
            labels: [("engine", engine.rawValue)]
        )
        sseClientsGauge = registry.makeGauge(descriptor: .inbox("sse_clients", unit: "", help: "Connected live-stream clients."), labels: [])
        batchSizes = registry.makeValueHistogram(
            descriptor: .inbox("writer_batch_size", unit: "", help: "Deliveries per writer transaction."), labels: [],
            buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]
        )
        ingestLatency = registry.makeDurationHistogram(
            descriptor: .inbox("webhook_ingest", unit: "seconds", help: "Time from a webhook's arrival to its answer."), labels: [],
            buckets: Self.latencyBuckets
        )
    }

    static let latencyBuckets: [Duration] = [
        .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(20),
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5),
    ]

    /// A webhook answered: `event` is InboxLite's name for it (`message.received`, … or `other`),
    /// `outcome` is applied, ignored, failed or duplicate.
    public func delivery(provider: String, event: String, outcome: String, duration: Duration) {
        let event = Self.boundedEvent(event)
        deliveryCounters.series(DeliveryKey(provider: provider, event: event, outcome: outcome)) {
            registry.makeCounter(
                descriptor: .inbox("webhook_deliveries", unit: "total", help: "Accepted webhook deliveries by gateway, event and outcome."),
                labels: [("event", event), ("outcome", outcome), ("provider", provider)]
            )
        }.increment()
        ingestLatency.record(duration)
    }

    private struct DeliveryKey: Hashable {
        let provider: String
        let event: String
        let outcome: String
    }

    /// A webhook refused, by reason code.
    public func rejected(reason: String) {
        rejectionCounters.series(reason) {
            registry.makeCounter(
                descriptor: .inbox("webhook_rejected", unit: "total", help: "Refused webhook requests by reason."),
                labels: [("reason", reason)]
            )
        }.increment()
    }

    public func batch(size: Int) {
        batchSizes.record(Double(size))
    }

    /// A query endpoint answered (`endpoint` is the route template, so cardinality stays bounded).
    public func query(endpoint: String, status: Int, duration: Duration) {
        queryHistograms.series(QueryKey(endpoint: endpoint, status: status)) {
            registry.makeDurationHistogram(
                descriptor: .inbox("query", unit: "seconds", help: "Query API latency by endpoint."),
                labels: [("endpoint", endpoint), ("status", String(status))], buckets: Self.latencyBuckets
            )
        }.record(duration)
    }

    /// Route templates × statuses: bounded.
    private struct QueryKey: Hashable {
        let endpoint: String
        let status: Int
    }

    /// One attempt to forward an event to a target (its name is from configuration: bounded).
    public func forwardingAttempt(target: String, delivered: Bool, duration: Duration) {
        let outcome = delivered ? "delivered" : "failed"
        forwardingAttempts.series(ForwardingKey(target: target, outcome: outcome)) {
            registry.makeCounter(
                descriptor: .inbox("forwarding_attempts", unit: "total", help: "Attempts to forward an event, by target and outcome."),
                labels: [("outcome", outcome), ("target", target)]
            )
        }.increment()
        forwardingLatency.series(target) {
            registry.makeDurationHistogram(
                descriptor: .inbox("forwarding_attempt", unit: "seconds", help: "Time from sending a forwarded event to its answer."),
                labels: [("target", target)], buckets: Self.latencyBuckets
            )
        }.record(duration)
    }

    /// An event given up on after its retries.
    public func forwardingDeadLetter(target: String) {
        forwardingDead.series(target) {
            registry.makeCounter(
                descriptor: .inbox("forwarding_dead_letters", unit: "total", help: "Forwarded events given up on, by target."),
                labels: [("target", target)]
            )
        }.increment()
    }

    private struct ForwardingKey: Hashable {
        let target: String
        let outcome: String
    }

    /// The Prometheus text exposition, with sampled gauges refreshed.
    public func render(_ samples: Samples) -> [UInt8] {
        queueDepthGauge.set(Double(samples.writerQueueDepth()))
        sseClientsGauge.set(Double(samples.sseClients()))
        let pool = samples.databasePool()
        poolInUseGauge.set(Double(pool.inUse))
        poolWaitingGauge.set(Double(pool.waiting))
        for (target, backlog) in samples.forwardingBacklog {
            forwardingBacklog.series(target) {
                registry.makeGauge(
                    descriptor: .inbox("forwarding_backlog", unit: "", help: "Events not yet delivered to a forwarding target."),
                    labels: [("target", target)]
                )
            }.set(Double(backlog))
        }
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return buffer
    }

    /// Event names come from senders; only known ones become label values.
    static func boundedEvent(_ event: String) -> String {
        ["message.received", "message.sent", "message.ack", "session.qr", "session.connected", "session.disconnected",
         "session.pending"].contains(event) ? event : "other"
    }
}

extension MetricNameDescriptor {
    static func inbox(_ name: String, unit: String, help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "inboxlite", metricName: name, unitName: unit, helpText: help)
    }
}

/// Times every query API request by route template. Attach it to the protected route group,
/// outside the auth middleware, so refused requests are counted too.
public struct QueryMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: InboxMetrics

    public init(metrics: InboxMetrics) { self.metrics = metrics }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        do {
            let response = try await next(request, context)
            metrics.query(endpoint: context.endpointPath ?? "unmatched", status: response.status.code, duration: ContinuousClock.now - started)
            return response
        } catch {
            let status = (error as? any APIError)?.status.code ?? (error as? any HTTPResponseError)?.status.code ?? 500
            metrics.query(endpoint: context.endpointPath ?? "unmatched", status: status, duration: ContinuousClock.now - started)
            throw error
        }
    }
}

/// Labelled series made once and kept: the registry builds and hashes a label set on every
/// `make…`, which cost more than the request it counted. Keys are bounded (gateways × events ×
/// outcomes, refusal reasons, route templates × statuses).
private final class SeriesCache<Key: Hashable & Sendable, Series: Sendable>: Sendable {
    private let made = Mutex<[Key: Series]>([:])

    func series(_ key: Key, make: () -> Series) -> Series {
        made.withLock { made in
            if let series = made[key] { return series }
            let series = make()
            made[key] = series
            return series
        }
    }
}
