import ArgumentParser
import Foundation
import Hummingbird
import InboxForwarding
import InboxLite
import Logging
import WebhookReceiver

/// `inboxlite serve`: run the receiver until SIGTERM/SIGINT, then drain and exit 0.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run the webhook receiver.")

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var postgres: PostgresOptions

    @Option(help: "Address to listen on (env INBOXLITE_HOST; default 127.0.0.1).")
    var host: String?

    @Option(help: "Port to listen on (env INBOXLITE_PORT; default 8080).")
    var port: Int?

    @Option(help: "Default webhook secret (env INBOXLITE_WEBHOOK_SECRET; default: generated, kept next to the database).")
    var webhookSecret: String?

    @Option(help: "JSON file of per-session secrets: {\"session\": \"secret\" or [\"new\", \"old\"]} (env INBOXLITE_SECRETS_FILE).")
    var secretsFile: String?

    @Option(help: "Bearer token for the query API (env INBOXLITE_API_TOKEN; default: generated, kept next to the database).")
    var apiToken: String?

    @Option(help: "Seconds a webhook timestamp may differ from now (env INBOXLITE_TIMESTAMP_TOLERANCE; default 300).")
    var timestampTolerance: Int?

    @Option(help: "Largest accepted webhook body in bytes (env INBOXLITE_MAX_BODY_BYTES; default 4194304: Meta's 3 MB maximum with margin).")
    var maxBodyBytes: Int?

    @Option(help: "Seconds a stop may take before what is left is cancelled (env INBOXLITE_SHUTDOWN_GRACE; default 5).")
    var shutdownGrace: Int?

    @Option(help: "Seconds a kept-alive connection may sit idle before it is closed (env INBOXLITE_IDLE_TIMEOUT; default 300).")
    var idleTimeout: Int?

    @Option(help: "Deliveries that may wait for the writer; beyond, webhooks get 503 store_busy (env INBOXLITE_WRITER_QUEUE; default 4096).")
    var writerQueue: Int?

    @Option(help: "Concurrent /api/events clients (env INBOXLITE_MAX_EVENT_STREAMS; default 64).")
    var maxEventStreams: Int?

    @Option(help: "Queries running or waiting at once; beyond, 503 (env INBOXLITE_MAX_QUEUED_READS; default 64).")
    var maxQueuedReads: Int?

    @Option(help: "Megabytes of the database each reader maps into memory; 0 reads with pread (env INBOXLITE_READER_MMAP_MB; default 2048).")
    var readerMmapMb: Int?

    @Option(help: "Days a receipt waits for its message before it is moved out of pending_acks (env INBOXLITE_PENDING_ACK_DAYS; default 7).")
    var pendingAckDays: Int?

    @Option(help: "Empty the bodies of applied deliveries older than DAYS (env INBOXLITE_RETAIN_BODIES; default: keep everything).")
    var retainBodies: Int?

    @Option(help: "Hours a failed delivery keeps health degraded (env INBOXLITE_FAILURE_WINDOW_HOURS; default 24).")
    var failureWindowHours: Int?

    @Option(help: "Meta app secret: turns on /webhooks/meta (env INBOXLITE_META_APP_SECRET).")
    var metaAppSecret: String?

    @Option(help: "Meta verify token for the subscribe handshake (env INBOXLITE_META_VERIFY_TOKEN).")
    var metaVerifyToken: String?

    @Option(help: "WAHA HMAC key: turns on /webhooks/waha (env INBOXLITE_WAHA_HMAC_KEY).")
    var wahaHmacKey: String?

    @Option(help: "Evolution API token: turns on /webhooks/evolution (env INBOXLITE_EVOLUTION_TOKEN).")
    var evolutionToken: String?

    @Option(help: "Forward every inbox event, signed the Standard Webhooks way, to this URL (env INBOXLITE_FORWARD_URL; needs --forward-secret).")
    var forwardUrl: String?

    @Option(help: "Forwarding secret, whsec_<base64> (env INBOXLITE_FORWARD_SECRET, or a file named by INBOXLITE_FORWARD_SECRET_FILE).")
    var forwardSecret: String?

    @Option(help: "JSON file of forwarding targets: {\"targets\": [{\"name\", \"url\", \"secret_file\" or \"secret\", \"sessions\", \"events\"}]} (env INBOXLITE_FORWARD_CONFIG).")
    var forwardConfig: String?

    func run() async throws {
        let logger = try database.bootstrapLogging()
        let configuration = try resolve(logger: logger)
        let app = try await buildApplication(configuration: configuration, logger: logger)
        try await runUntilSignalled(app, grace: configuration.shutdownGrace, logger: logger)
        logger.notice("stopped")
    }

    /// Flags, then environment, then defaults; generated secrets are announced by path only.
    func resolve(logger: Logger) throws -> AppConfiguration {
        let port = try integer(self.port, env: "INBOXLITE_PORT") ?? 8080
        guard (0...65535).contains(port) else { throw UsageFailure("--port must be between 0 and 65535") }
        let tolerance = try integer(timestampTolerance, env: "INBOXLITE_TIMESTAMP_TOLERANCE") ?? 300
        guard tolerance > 0 else { throw UsageFailure("--timestamp-tolerance must be positive") }
        let maxBody = try integer(maxBodyBytes, env: "INBOXLITE_MAX_BODY_BYTES") ?? AppConfiguration.defaultMaxBodyBytes
        guard maxBody > 0 else { throw UsageFailure("--max-body-bytes must be positive") }

        let grace = try positive(shutdownGrace, env: "INBOXLITE_SHUTDOWN_GRACE", flag: "--shutdown-grace") ?? 5
        let idle = try positive(idleTimeout, env: "INBOXLITE_IDLE_TIMEOUT", flag: "--idle-timeout") ?? AppConfiguration.defaultIdleTimeoutSeconds
        let queue = try positive(writerQueue, env: "INBOXLITE_WRITER_QUEUE", flag: "--writer-queue") ?? 4096
        let streams = try positive(maxEventStreams, env: "INBOXLITE_MAX_EVENT_STREAMS", flag: "--max-event-streams") ?? 64
        let reads = try positive(maxQueuedReads, env: "INBOXLITE_MAX_QUEUED_READS", flag: "--max-queued-reads") ?? 64
        let mmapMegabytes = try integer(readerMmapMb, env: "INBOXLITE_READER_MMAP_MB") ?? 2048
        guard mmapMegabytes >= 0 else { throw UsageFailure("--reader-mmap-mb must be 0 or more") }
        let ackDays = try positive(pendingAckDays, env: "INBOXLITE_PENDING_ACK_DAYS", flag: "--pending-ack-days") ?? 7
        let retainDays = try positive(retainBodies, env: "INBOXLITE_RETAIN_BODIES", flag: "--retain-bodies")
        let failureHours = try positive(failureWindowHours, env: "INBOXLITE_FAILURE_WINDOW_HOURS", flag: "--failure-window-hours") ?? 24

        var sessionSecrets: [String: [String]] = [:]
        if let path = secretsFile ?? environment("INBOXLITE_SECRETS_FILE") {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw UsageFailure("cannot read the secrets file \(path)")
            }
            do {
                sessionSecrets = try WebhookSecrets.parseSecretsFile(data)
            } catch {
                throw UsageFailure("\(path): \(error)")
            }
        }
        let migrations = try database.migrationsDirectory()
        guard let openAPI = OpenAPILocator.find(explicit: environment("INBOXLITE_OPENAPI")) else {
            throw UsageFailure("cannot find openapi.yaml; install it next to the migrations or set INBOXLITE_OPENAPI")
        }
        let durability = try database.resolvedDurability()
        let logLevel = try database.resolvedLogLevel()
        let fileAccess = try database.resolvedFileAccess()
        let postgresLocation = try postgres.location()
        // Secrets are generated last, once every other setting is known to be valid.
        let dataFolder = URL(fileURLWithPath: database.databasePath).deletingLastPathComponent()
        let secret = try configuredOrGenerated(
            webhookSecret ?? environment("INBOXLITE_WEBHOOK_SECRET"),
            file: dataFolder.appendingPathComponent("webhook-secret").path,
            what: "webhook secret", hint: "paste its contents into the gateway session's \"webhookSecret\"",
            folderMode: fileAccess.folderMode, onPostgres: postgresLocation != nil, flag: "--webhook-secret", logger: logger
        )
        let token = try configuredOrGenerated(
            apiToken ?? environment("INBOXLITE_API_TOKEN"),
            file: dataFolder.appendingPathComponent("api-token").path,
            what: "API token", hint: "send it as Authorization: Bearer <token> to the query API",
            folderMode: fileAccess.folderMode, onPostgres: postgresLocation != nil, flag: "--api-token", logger: logger
        )
        logger.notice("starting", metadata: [
            "database": "\(postgresLocation.map(\.description) ?? database.databasePath)", "durability": "\(durability.rawValue)",
            "per_session_secrets": "\(sessionSecrets.count)", "writer_queue": "\(queue)",
            "max_event_streams": "\(streams)", "file_access": "\(fileAccess.rawValue)", "max_queued_reads": "\(reads)", "reader_mmap_mb": "\(mmapMegabytes)", "pending_ack_days": "\(ackDays)",
            "retain_bodies_days": "\(retainDays.map(String.init) ?? "forever")", "shutdown_grace_s": "\(grace)",
        ])
        var configuration = AppConfiguration(
            host: host ?? environment("INBOXLITE_HOST") ?? "127.0.0.1",
            port: port,
            databasePath: database.databasePath,
            migrationsDirectory: migrations,
            openAPIDocument: openAPI,
            consoleDirectory: ConsoleLocator.find(explicit: environment("INBOXLITE_CONSOLE")),
            durability: durability,
            webhookSecret: secret,
            sessionSecrets: sessionSecrets,
            apiToken: token,
            timestampTolerance: TimeInterval(tolerance),
            maxBodyBytes: maxBody,
            logLevel: logLevel,
            shutdownGrace: .seconds(grace),
            idleTimeout: .seconds(idle),
            maxQueuedDeliveries: queue,
            maxEventStreams: streams,
            maxQueuedReads: reads,
            readerMemoryMapMegabytes: mmapMegabytes,
            pendingAckExpiry: TimeInterval(ackDays) * 86_400,
            retainBodies: retainDays.map { TimeInterval($0) * 86_400 },
            failureWindow: TimeInterval(failureHours) * 3600,
            metaAppSecret: metaAppSecret ?? environment("INBOXLITE_META_APP_SECRET"),
            metaVerifyToken: metaVerifyToken ?? environment("INBOXLITE_META_VERIFY_TOKEN"),
            wahaHMACKey: wahaHmacKey ?? environment("INBOXLITE_WAHA_HMAC_KEY"),
            evolutionToken: evolutionToken ?? environment("INBOXLITE_EVOLUTION_TOKEN")
        )
        configuration.fileAccess = fileAccess
        configuration.postgres = postgresLocation
        configuration.forwardTargets = try forwardTargets(logger: logger)
        return configuration
    }

    /// `--forward-url` with its secret (target `default`), and the targets of `--forward-config`.
    private func forwardTargets(logger: Logger) throws -> [ForwardTarget] {
        let readSecret = { (path: String) throws -> String in
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw UsageFailure("cannot read the forwarding secret file \(path)")
            }
            return text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        do {
            var targets: [ForwardTarget] = []
            if let url = forwardUrl ?? environment("INBOXLITE_FORWARD_URL") {
                let secret = try forwardSecret ?? environment("INBOXLITE_FORWARD_SECRET")
                    ?? environment("INBOXLITE_FORWARD_SECRET_FILE").map(readSecret)
                guard let secret else {
                    throw UsageFailure("--forward-url needs --forward-secret (or INBOXLITE_FORWARD_SECRET / _FILE): whsec_ and base64")
                }
                targets.append(try ForwardTarget(name: "default", url: url, secret: secret))
            } else if forwardSecret != nil {
                throw UsageFailure("--forward-secret is given without --forward-url")
            }
            if let path = forwardConfig ?? environment("INBOXLITE_FORWARD_CONFIG") {
                if let mode = (try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? Int, mode & 0o077 != 0 {
                    logger.warning("the forwarding config may be read by other users; if it holds secrets, chmod 600 it",
                                   metadata: ["file": "\(path)"])
                }
                for target in try ForwardTarget.targets(configFile: path, readSecret: readSecret) {
                    guard !targets.contains(where: { $0.name == target.name }) else {
                        throw UsageFailure("forwarding target \(target.name) is configured twice")
                    }
                    targets.append(target)
                }
            }
            return targets
        } catch let error as ForwardingConfigurationError {
            throw UsageFailure(error.description)
        }
    }

    /// A whole number above zero from the flag or the environment; nil when neither is set.
    private func positive(_ flag: Int?, env name: String, flag flagName: String) throws -> Int? {
        guard let value = try integer(flag, env: name) else { return nil }
        guard value > 0 else { throw UsageFailure("\(flagName) must be a positive whole number") }
        return value
    }

    /// The flag's value, else the environment variable's (which must be a whole number).
    private func integer(_ flag: Int?, env name: String) throws -> Int? {
        if let flag { return flag }
        guard let text = environment(name) else { return nil }
        guard let value = Int(text) else { throw UsageFailure("\(name) must be a whole number, not \"\(text)\"") }
        return value
    }

    /// The configured value, else the one kept in `file` (generated on first run). Announced
    /// through the logger (stderr, flushed per line) by path only: the value is never logged.
    ///
    /// On PostgreSQL nothing is generated: every node must use the same secrets, and a node keeps
    /// nothing on its own disk.
    private func configuredOrGenerated(
        _ value: String?, file: String, what: String, hint: String, folderMode: mode_t, onPostgres: Bool, flag: String, logger: Logger
    ) throws -> String {
        if let value {
            logger.notice("\(what) from the command line or environment")
            return value
        }
        if onPostgres {
            throw UsageFailure("with --database-url, give the \(what) with \(flag) (or its environment variable): every node must use the same one")
        }
        let (secret, created) = try SecretFile.loadOrCreate(at: file, folderMode: folderMode)
        logger.notice("\(created ? "generated" : "using") \(what) in \(file) (mode 0600): \(hint)")
        return secret
    }
}
