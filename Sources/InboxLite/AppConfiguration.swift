import Foundation
import InboxStore
import Logging

/// Everything the service needs to start, resolved from flags, environment and defaults by the
/// command line, or written directly by tests.
public struct AppConfiguration: Sendable {
    public var host: String
    public var port: Int
    public var databasePath: String
    public var migrationsDirectory: URL
    public var durability: Durability
    /// The secret for every session without its own entry in `sessionSecrets`.
    public var webhookSecret: String
    /// Per-session secrets; several per session while rotating.
    public var sessionSecrets: [String: [String]]
    /// Bearer token for the query API.
    public var apiToken: String
    public var timestampTolerance: TimeInterval
    public var maxBodyBytes: Int
    public var logLevel: Logger.Level
    /// The most deliveries one writer transaction takes.
    public var maxBatch: Int
    /// How long a write waits for a lock held elsewhere before the webhook is answered 503.
    public var busyTimeoutMilliseconds: Int
    /// How often the live event stream sends a keep-alive comment.
    public var eventHeartbeat: Duration

    public init(
        host: String = "127.0.0.1",
        port: Int = 8080,
        databasePath: String,
        migrationsDirectory: URL,
        durability: Durability = .normal,
        webhookSecret: String,
        sessionSecrets: [String: [String]] = [:],
        apiToken: String,
        timestampTolerance: TimeInterval = 300,
        maxBodyBytes: Int = 2_097_152,
        logLevel: Logger.Level = .info,
        maxBatch: Int = 512,
        busyTimeoutMilliseconds: Int = 5000,
        eventHeartbeat: Duration = .seconds(15)
    ) {
        self.host = host
        self.port = port
        self.databasePath = databasePath
        self.migrationsDirectory = migrationsDirectory
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
    }

    /// The database settings the store needs.
    public var store: StoreConfiguration {
        StoreConfiguration(path: databasePath, durability: durability, busyTimeoutMilliseconds: busyTimeoutMilliseconds)
    }
}
