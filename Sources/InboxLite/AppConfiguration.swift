import InboxEvents
import Foundation
import InboxForwarding
import InboxPostgres
import InboxStore
import Logging
import WebhookReceiver

/// Everything the service needs to start, resolved from flags, environment and defaults by the
/// command line, or written directly by tests.
public struct AppConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// The SQLite database, unless `postgres` is set.
    public var databasePath: String
    /// PostgreSQL instead of SQLite (`--database-url`): the node keeps nothing on its own disk.
    public var postgres: PostgresLocation?
    /// SQLite's migrations; PostgreSQL's are in its `postgresql` folder.
    public var migrationsDirectory: URL
    /// The OpenAPI description served at `/openapi.yaml`.
    public var openAPIDocument: URL
    /// The operator console's files, served at `/`; nil serves no console.
    public var consoleDirectory: URL?
    public var durability: Durability
    /// Who on this machine may read the database's files.
    public var fileAccess: FileAccess = .owner
    /// The secret for every session without its own entry in `sessionSecrets`.
    public var webhookSecret: String
    /// Per-session secrets; several per session while rotating.
    public var sessionSecrets: [String: [String]]
    /// Bearer token for the query API.
    public var apiToken: String
    public var timestampTolerance: TimeInterval
    public var maxBodyBytes: Int
    /// 4 MiB: Meta documents webhook payloads of up to 3 MB (a batch of up to 1,000 updates); the
    /// rest is margin for escapes and other gateways' media previews.
    public static let defaultMaxBodyBytes = 4_194_304
    public var logLevel: Logger.Level
    /// The most deliveries one writer transaction takes.
    public var maxBatch: Int
    /// How long a write waits for a lock held elsewhere before the webhook is answered 503.
    public var busyTimeoutMilliseconds: Int
    /// How often the live event stream sends a keep-alive comment.
    public var eventHeartbeat: Duration
    /// How long a stop may take (streams ended, in-flight requests answered, writer drained)
    /// before what is left is cancelled.
    public var shutdownGrace: Duration
    /// How long a kept-alive connection may sit idle before the server closes it. Longer than the
    /// idle timeouts of the proxies and pools in front (nginx 60 s, Go 90 s, Caddy 120 s), so they
    /// close first and never send a request down a connection the server is closing.
    public var idleTimeout: Duration
    public static let defaultIdleTimeoutSeconds = 300
    /// Writer queue bounds: past either, webhooks get 503 `store_busy`.
    public var maxQueuedDeliveries: Int
    public var maxQueuedBytes: Int
    /// Concurrent `/api/events` clients, and the bytes each may have waiting.
    public var maxEventStreams: Int
    public var eventBufferBytes: Int
    /// Reads running or waiting at once before new ones get 503.
    public var maxQueuedReads: Int
    /// Megabytes of the database file each reader maps into memory (0: read with pread).
    public var readerMemoryMapMegabytes: Int
    /// Receipts older than this whose message never came are moved out of `pending_acks`.
    public var pendingAckExpiry: TimeInterval
    /// Bodies of applied deliveries older than this are emptied; nil keeps everything.
    public var retainBodies: TimeInterval?
    /// Failed deliveries newer than this keep health `degraded`.
    public var failureWindow: TimeInterval
    /// Gateway secrets; a gateway without one is off (404 `provider_disabled`).
    public var metaAppSecret: String?
    public var metaVerifyToken: String?
    public var wahaHMACKey: String?
    public var evolutionToken: String?
    /// Where the inbox's events are forwarded (`--forward-url`, `--forward-config`); none: off.
    public var forwardTargets: [ForwardTarget] = []

    public init(
        host: String = "127.0.0.1",
        port: Int = 8080,
        databasePath: String,
        migrationsDirectory: URL,
        openAPIDocument: URL,
        consoleDirectory: URL? = nil,
        durability: Durability = .normal,
        webhookSecret: String,
        sessionSecrets: [String: [String]] = [:],
        apiToken: String,
        timestampTolerance: TimeInterval = 300,
        maxBodyBytes: Int = AppConfiguration.defaultMaxBodyBytes,
        logLevel: Logger.Level = .info,
        maxBatch: Int = 512,
        busyTimeoutMilliseconds: Int = 5000,
        eventHeartbeat: Duration = .seconds(15),
        shutdownGrace: Duration = .seconds(5),
        idleTimeout: Duration = .seconds(AppConfiguration.defaultIdleTimeoutSeconds),
        maxQueuedDeliveries: Int = 4096,
        maxQueuedBytes: Int = 32 << 20,
        maxEventStreams: Int = 64,
        eventBufferBytes: Int = 1 << 20,
        maxQueuedReads: Int = 64,
        readerMemoryMapMegabytes: Int = 2048,
        pendingAckExpiry: TimeInterval = 7 * 86_400,
        retainBodies: TimeInterval? = nil,
        failureWindow: TimeInterval = 86_400,
        metaAppSecret: String? = nil,
        metaVerifyToken: String? = nil,
        wahaHMACKey: String? = nil,
        evolutionToken: String? = nil
    ) {
        self.host = host
        self.port = port
        self.databasePath = databasePath
        self.migrationsDirectory = migrationsDirectory
        self.openAPIDocument = openAPIDocument
        self.consoleDirectory = consoleDirectory
        self.durability = durability
        self.webhookSecret = webhookSecret
        self.sessionSecrets = sessionSecrets
        self.apiToken = apiToken
        self.timestampTolerance = timestampTolerance
        self.maxBodyBytes = maxBodyBytes
        self.logLevel = logLevel
        self.maxBatch = maxBatch
        self.busyTimeoutMilliseconds = busyTimeoutMilliseconds
        self.eventHeartbeat = eventHeartbeat
        self.shutdownGrace = shutdownGrace
        self.idleTimeout = idleTimeout
        self.maxQueuedDeliveries = maxQueuedDeliveries
        self.maxQueuedBytes = maxQueuedBytes
        self.maxEventStreams = maxEventStreams
        self.eventBufferBytes = eventBufferBytes
        self.maxQueuedReads = maxQueuedReads
        self.readerMemoryMapMegabytes = readerMemoryMapMegabytes
        self.pendingAckExpiry = pendingAckExpiry
        self.retainBodies = retainBodies
        self.failureWindow = failureWindow
        self.metaAppSecret = metaAppSecret
        self.metaVerifyToken = metaVerifyToken
        self.wahaHMACKey = wahaHMACKey
        self.evolutionToken = evolutionToken
    }

    /// Inbox Hub's verifier (also what `POST /api/webhooks/test/signature` checks against).
    var inboxHubVerifier: WebhookVerifier {
        WebhookVerifier(secrets: WebhookSecrets(defaultSecret: webhookSecret, perSession: sessionSecrets), tolerance: timestampTolerance)
    }

    /// The authenticator of each gateway that has its secret configured; Inbox Hub is `inboxHub`.
    func gatewayAuthenticators(inboxHub: WebhookVerifier) -> [Provider: any WebhookAuthenticator] {
        var authenticators: [Provider: any WebhookAuthenticator] = [.inboxHub: inboxHub]
        authenticators[.meta] = metaAppSecret.map { HMACHeaderVerifier.meta(appSecret: $0, perSession: sessionSecrets) }
        authenticators[.waha] = wahaHMACKey.map {
            HMACHeaderVerifier.waha(hmacKey: $0, perSession: sessionSecrets, tolerance: timestampTolerance)
        }
        authenticators[.evolution] = evolutionToken.map { EvolutionVerifier(token: $0, perSession: sessionSecrets) }
        return authenticators
    }

    /// The writer's limits and housekeeping.
    var writerSettings: DeliveryWriter.Settings {
        var settings = DeliveryWriter.Settings()
        settings.maxBatch = maxBatch
        settings.maxQueuedDeliveries = maxQueuedDeliveries
        settings.maxQueuedBytes = maxQueuedBytes
        settings.pendingAckExpiry = pendingAckExpiry
        settings.retainBodies = retainBodies
        return settings
    }

    /// Which engine stores the inbox.
    public var engine: StoreEngine { postgres == nil ? .sqlite : .postgresql }

    /// The database settings the store needs.
    public var store: StoreConfiguration {
        StoreConfiguration(
            path: databasePath, durability: durability, busyTimeoutMilliseconds: busyTimeoutMilliseconds,
            readerMemoryMapBytes: readerMemoryMapMegabytes << 20, fileAccess: fileAccess
        )
    }
}
