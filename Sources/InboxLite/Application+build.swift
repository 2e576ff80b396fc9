import Foundation
import Hummingbird
import InboxHTTP
import InboxQuery
import InboxStore
import Logging
import WebhookReceiver

/// The request context every route uses.
public typealias AppRequestContext = BasicRequestContext

/// Assembles the service: migrates the database, then wires the writer, the verifier and the
/// routes. The command line and the tests both call this, so tests exercise the real wiring.
public func buildApplication(
    configuration: AppConfiguration, logger: Logger? = nil
) async throws -> some ApplicationProtocol {
    var logger = logger ?? Logger(label: "inboxlite")
    logger.logLevel = configuration.logLevel

    let migrations = try Migration.load(from: configuration.migrationsDirectory)
    let applied = try InboxDatabase.migrate(configuration.store, migrations: migrations)
    if !applied.isEmpty {
        logger.info("applied migrations", metadata: ["migrations": "\(applied.joined(separator: ", "))"])
    }

    let metrics = InboxMetrics()
    let broadcaster = EventBroadcaster()
    let writer = DeliveryWriter(store: configuration.store, maxBatch: configuration.maxBatch, logger: logger) { deliveries, results in
        metrics.batch(size: deliveries.count)
        broadcaster.publish(LiveEvents.from(deliveries, results))
    }
    let verifier = WebhookVerifier(
        secrets: WebhookSecrets(defaultSecret: configuration.webhookSecret, perSession: configuration.sessionSecrets),
        tolerance: configuration.timestampTolerance
    )

    let router = Router(context: AppRequestContext.self)
    router.middlewares.add(QueryMetricsMiddleware(metrics: metrics))
    router.middlewares.add(JSONErrorMiddleware())
    router.middlewares.add(BearerAuthMiddleware(
        token: configuration.apiToken, openPaths: [WebhookTestController<AppRequestContext>.connectivityPath]
    ))
    router.get("/healthz") { _, _ in
        Response.json(bytes: Array(#"{"status":"ok"}"#.utf8))
    }
    router.get("/metrics") { _, _ in
        let text = metrics.render(.init(writerQueueDepth: { writer.queueDepth }, sseClients: { broadcaster.subscriberCount }))
        return Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: text))
        )
    }
    WebhookController(verifier: verifier, writer: writer, maxBodyBytes: configuration.maxBodyBytes, metrics: metrics)
        .addRoutes(to: router)
    WebhookTestController(verifier: verifier, maxBodyBytes: configuration.maxBodyBytes).addRoutes(to: router)

    let pool = ReadPool(store: configuration.store)
    SessionController(pool: pool).addRoutes(to: router)
    ContactController(pool: pool).addRoutes(to: router)
    ConversationController(pool: pool).addRoutes(to: router)
    MessageController(pool: pool).addRoutes(to: router)
    DeliveryController(pool: pool, writerQueueDepth: { writer.queueDepth }).addRoutes(to: router)
    EventStreamController(pool: pool, broadcaster: broadcaster, heartbeatInterval: configuration.eventHeartbeat)
        .addRoutes(to: router)
    OpenAPIDocument.addRoutes(to: router)

    var app = Application(
        router: router,
        configuration: .init(
            address: .hostname(configuration.host, port: configuration.port),
            serverName: "InboxLite"
        ),
        logger: logger
    )
    app.addServices(writer)
    return app
}

/// Turns what a commit stored into the live stream's events: applied deliveries of streamed events.
enum LiveEvents {
    static func from(_ deliveries: [IncomingDelivery], _ results: [DeliveryResult]) -> [LiveEvent] {
        zip(deliveries, results).compactMap { delivery, result in
            guard case .stored(let id, .applied) = result, LiveEvent.streamed.contains(delivery.envelope.event) else {
                return nil
            }
            return LiveEvent(id: id, event: delivery.envelope.event, sessionId: delivery.sessionId,
                             body: String(decoding: delivery.body, as: UTF8.self))
        }
    }
}
