import InboxEvents
import Foundation
import InboxForwarding
import Hummingbird
import InboxHTTP
import InboxQuery
import InboxStore
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization
import WebhookReceiver

/// The request context every route uses: Hummingbird's core, plus what the request's API token
/// allows once a route group's `BearerAuthMiddleware` has checked it.
public struct AppRequestContext: AuthorizedRequestContext {
    public var coreContext: CoreRequestContextStorage
    public var access: TokenAccess?

    public init(source: Source) {
        coreContext = .init(source: source)
    }
}

/// Assembles the service: takes the database's writer lock, migrates, then wires the writer, the
/// verifier and the routes. The command line and the tests both call this, so tests exercise the
/// real wiring.
///
/// Routes that need the API token are registered on one route group that carries
/// `BearerAuthMiddleware`; open routes are registered outside it. Authentication follows from
/// where a route is mounted, never from comparing path strings.
///
/// - Parameter onServerRunning: called with the bound port once the server listens (tests pass
///   port 0 and learn the real one here).
public func buildApplication(
    configuration: AppConfiguration, logger: Logger? = nil,
    onServerRunning: (@Sendable (Int) async -> Void)? = nil
) async throws -> some ApplicationProtocol {
    var logger = logger ?? Logger(label: "inboxlite")
    logger.logLevel = configuration.logLevel

    let storage = try await Storage.open(configuration, logger: logger)

    let metrics = InboxMetrics(engine: storage.readPool.engine)
    let broadcaster = EventBroadcaster(maxBufferedBytes: configuration.eventBufferBytes, maxSubscribers: configuration.maxEventStreams)
    // One writer: its commits go straight to the live streams. Several nodes: every node's
    // streams follow the delivery log, woken by commits here and notifications from the others.
    // The normalised stream (/api/inbox-events) always follows the inbox's event log, on either
    // engine: its events are read (messages rendered) once per wake-up for every subscriber.
    // Its head, read before the server takes any webhook, is also where a forwarding target seen
    // for the first time starts: it gets the events from this process's start on.
    let eventLogHead = try await storage.readPool.read { try InboxEventLog.head(in: $0) }
    let inboxBroadcaster = EventBroadcaster(maxBufferedBytes: configuration.eventBufferBytes, maxSubscribers: configuration.maxEventStreams)
    let inboxFeed = LiveEventFeed(pool: storage.readPool, source: InboxEventSource(), broadcaster: inboxBroadcaster, head: eventLogHead,
                                  listener: nil, logger: logger)
    // Made after the writer (its ledger), woken by the writer's commits.
    let forwarding = ForwarderSlot()
    let liveFeed: LiveEventFeed? = if let listener = storage.otherNodesCommits {
        // Another node's commit wakes this node's followers of both logs, and its forwarder.
        LiveEventFeed(pool: storage.readPool, broadcaster: broadcaster, head: try await storage.readPool.read { try DeliveryLog.head(in: $0) },
                      listener: { onNotification in
                          await listener {
                              onNotification()
                              inboxFeed.wake()
                              forwarding.wake()
                          }
                      }, logger: logger)
    } else {
        nil
    }
    let writer = DeliveryWriter(host: storage.writerHost, settings: configuration.writerSettings, logger: logger) { deliveries, results in
        metrics.batch(size: deliveries.count)
        forwarding.wake()
        inboxFeed.wake()
        if let feed = liveFeed {
            feed.wake()
        } else {
            broadcaster.publish(LiveEvents.from(deliveries, results))
        }
    }
    let forwarder = configuration.forwardTargets.isEmpty ? nil
        : Forwarder(targets: configuration.forwardTargets, startAfter: eventLogHead,
                    engine: storage.readPool.engine, openReader: storage.openReader, ledger: writer, ingestBusy: { writer.isBusy },
                    observer: metrics, logger: logger)
    forwarding.set(forwarder)
    if !configuration.forwardTargets.isEmpty {
        logger.notice("forwarding", metadata: ["targets": "\(configuration.forwardTargets.map { "\($0.name) → \($0.shownURL)" }.joined(separator: ", "))"])
    }
    let verifier = configuration.inboxHubVerifier
    let authenticators = configuration.gatewayAuthenticators(inboxHub: verifier)
    logger.notice("gateways", metadata: [
        "on": "\(Provider.allCases.filter { authenticators[$0] != nil }.map(\.rawValue).joined(separator: ", "))",
        "off": "\(Provider.allCases.filter { authenticators[$0] == nil }.map(\.rawValue).joined(separator: ", "))",
    ])

    guard let document = FileManager.default.contents(atPath: configuration.openAPIDocument.path) else {
        throw ConfigurationError("cannot read the OpenAPI document \(configuration.openAPIDocument.path)")
    }
    let router = Router(context: AppRequestContext.self)
    router.middlewares.add(ConnectionCloseMiddleware())
    router.middlewares.add(JSONErrorMiddleware())
    router.middlewares.add(MethodNotAllowedMiddleware(
        routes: OpenAPIDocument.operations(in: Array(document)).map { .init(template: $0.path, methods: $0.methods) }
    ))

    // Open: liveness (with the engine and whether the last write reached it), the API
    // description, the connectivity check, and the webhook receivers (which authenticate every
    // delivery by its signature).
    let health = { (state: String) in Array(#"{"database":"\#(state)","engine":"\#(writer.engine.rawValue)","status":"ok"}"#.utf8) }
    let (reachable, unreachable) = (health("ok"), health("unreachable"))
    router.get("/healthz") { _, _ in
        Response.json(bytes: writer.isReachable ? reachable : unreachable)
    }
    OpenAPIDocument.addRoutes(to: router, document: Array(document))
    if let console = configuration.consoleDirectory {
        try ConsoleController<AppRequestContext>(directory: console).addRoutes(to: router)
    } else {
        logger.notice("no Console folder found: the operator console is not served")
    }
    for provider in Provider.allCases {
        WebhookController(
            provider: provider, authenticator: authenticators[provider], writer: writer,
            maxBodyBytes: configuration.maxBodyBytes, metrics: metrics
        ).addRoutes(to: router)
    }
    MetaSubscriptionController(enabled: configuration.metaAppSecret != nil, verifyToken: configuration.metaVerifyToken)
        .addRoutes(to: router)

    // Everything else needs an API token: reading with any, administering (replay, tokens) with an
    // admin one, metrics (counts of every session) with an admin token of every session. A token's
    // sessions narrow everything it reads and administers. The token set at start is an admin
    // token of every session.
    let pool = storage.readPool
    let tokens = TokenRegistry(startToken: configuration.apiToken, pool: pool) { uses in
        try? await writer.recordTokenUse(uses)
    }
    let tokenGroup = { (requirement: BearerAuthMiddleware<AppRequestContext>.Requirement) in
        router.group()
            .add(middleware: QueryMetricsMiddleware(metrics: metrics))
            .add(middleware: BearerAuthMiddleware(registry: tokens, requirement: requirement))
    }
    let (protected, admin, operatorOnly) = (tokenGroup(.read), tokenGroup(.admin), tokenGroup(.adminOfEverySession))
    WebhookTestController(verifier: verifier, maxBodyBytes: configuration.maxBodyBytes)
        .addRoutes(open: router, protected: protected)
    let forwardingTargets = configuration.forwardTargets.map {
        ForwardingTargetView(name: $0.name, url: $0.shownURL, scope: $0.scope, types: $0.types)
    }
    operatorOnly.get("/metrics") { _, _ in
        // Each target's backlog is counted for the scrape (a database read; none without targets).
        let backlogs = forwardingTargets.isEmpty ? [:] : Dictionary(
            uniqueKeysWithValues: try await ForwardingController<AppRequestContext>.statuses(of: forwardingTargets, pool: pool).map { ($0.name, $0.backlog) }
        )
        let text = metrics.render(.init(writerQueueDepth: { writer.backlog },
                                        sseClients: { broadcaster.subscriberCount + inboxBroadcaster.subscriberCount },
                                        databasePool: { pool.usage }, forwardingBacklog: backlogs))
        return Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: text))
        )
    }
    SessionController(pool: pool).addRoutes(to: protected)
    ContactController(pool: pool).addRoutes(to: protected)
    GroupController(pool: pool).addRoutes(to: protected)
    ConversationController(pool: pool).addRoutes(to: protected)
    MessageController(pool: pool).addRoutes(to: protected)
    DeliveryController(pool: pool, failureWindow: configuration.failureWindow, writerQueueDepth: { writer.backlog })
        .addRoutes(to: protected)
    EventStreamController(pool: pool, broadcaster: broadcaster, tokens: tokens, heartbeatInterval: configuration.eventHeartbeat)
        .addRoutes(to: protected)
    EventStreamController(pool: pool, path: "/api/inbox-events", source: InboxEventSource(), broadcaster: inboxBroadcaster, tokens: tokens,
                          heartbeatInterval: configuration.eventHeartbeat).addRoutes(to: protected)
    AdminController(store: writer).addRoutes(to: admin)
    // Forwarding's standing spans every session: for admin tokens of every session.
    ForwardingController(pool: pool, targets: forwardingTargets).addRoutes(to: operatorOnly)
    ForwardingAdminController(ledger: writer, targets: forwardingTargets.map(\.name), wake: { forwarding.wake() })
        .addRoutes(to: operatorOnly)

    let host = configuration.host
    var app = Application(
        router: router,
        server: .http1(configuration: .init(idleTimeout: TimeAmount(configuration.idleTimeout))),
        configuration: .init(
            address: .hostname(configuration.host, port: configuration.port),
            serverName: "InboxLite"
        ),
        onServerRunning: { [logger] channel in
            let port = channel.localAddress?.port ?? 0
            let reachable = host == "0.0.0.0" || host == "::" ? "127.0.0.1" : host
            storage.owner?.announce(url: "http://\(reachable.contains(":") ? "[\(reachable)]" : reachable):\(port)")
            logger.notice("listening", metadata: ["address": "\(host):\(port)"])
            await onServerRunning?(port)
        },
        logger: logger
    )
    app.addServices(writer)
    if let liveFeed { app.addServices(liveFeed) }
    app.addServices(inboxFeed)
    // After the writer: stopped before it, so its last progress still goes through the writer.
    if let forwarder { app.addServices(forwarder) }
    return app
}

/// Runs the application until SIGTERM or SIGINT, then stops it gracefully: new connections are
/// refused, event streams end, in-flight requests are answered, the writer drains and the WAL is
/// checkpointed. Whatever is still running after `grace` is cancelled.
public func runUntilSignalled(_ app: some ApplicationProtocol, grace: Duration, logger: Logger) async throws {
    var configuration = ServiceGroupConfiguration(
        services: [.init(service: app)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger
    )
    configuration.maximumGracefulShutdownDuration = grace
    configuration.maximumCancellationDuration = .seconds(5)
    try await ServiceGroup(configuration: configuration).run()
}

/// Turns what a commit stored into the live stream's events: applied deliveries of streamed events.
enum LiveEvents {
    static func from(_ deliveries: [IncomingDelivery], _ results: [DeliveryResult]) -> [LiveEvent] {
        zip(deliveries, results).flatMap { delivery, result -> [LiveEvent] in
            guard case .stored(let id, .applied, let merges) = result, let event = delivery.envelope.inboxEvent else {
                return []
            }
            return [LiveEvent(id: id, event: event, sessionId: delivery.sessionId, body: String(decoding: delivery.body, as: UTF8.self))]
                + merges.map { LiveEvent.contactMerged($0, deliveryId: id) }
        }
    }
}

/// A setting that cannot be used; the message says which and why.
public struct ConfigurationError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The forwarder once it exists: the writer's commit observer is made before it.
final class ForwarderSlot: Sendable {
    private let forwarder = Mutex<Forwarder?>(nil)

    func set(_ value: Forwarder?) {
        forwarder.withLock { $0 = value }
    }

    func wake() {
        forwarder.withLock { $0 }?.wake()
    }
}

/// The forwarding ledger is written through the one writer.
extension DeliveryWriter: ForwardingLedger {
    public func claimForwarding(target: String, url: String, startAfter: Int64, holder: String, lease: TimeInterval) async throws
        -> ForwardingClaim?
    {
        try await perform { try $0.claimForwarding(target: target, url: url, startAfter: startAfter, holder: holder, lease: lease) }
    }

    public func saveForwarding(_ changes: ForwardingChanges, target: String, holder: String, lease: TimeInterval) async throws -> Bool {
        try await perform { try $0.saveForwarding(changes, target: target, holder: holder, lease: lease) }
    }

    public func releaseForwarding(target: String, holder: String) async throws {
        try await perform { try $0.releaseForwarding(target: target, holder: holder) }
    }

    public func resendDeadForwarding(target: String?, seq: Int64?) async throws -> Int {
        try await perform { try $0.resendDeadForwarding(target: target, seq: seq) }
    }
}
