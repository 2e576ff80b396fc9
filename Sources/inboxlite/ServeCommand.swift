import ArgumentParser
import Foundation
import Hummingbird
import InboxLite
import WebhookReceiver

/// `inboxlite serve`: run the receiver until SIGTERM/SIGINT, then drain and exit 0.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run the webhook receiver.")

    @OptionGroup var database: DatabaseOptions

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

    @Option(help: "Largest accepted webhook body in bytes (env INBOXLITE_MAX_BODY_BYTES; default 2097152).")
    var maxBodyBytes: Int?

    func run() async throws {
        let logger = try database.bootstrapLogging()
        let configuration = try resolve()
        let app = try await buildApplication(configuration: configuration, logger: logger)
        try await app.runService()
    }

    /// Flags, then environment, then defaults; generated secrets are announced by path only.
    func resolve() throws -> AppConfiguration {
        let port = try integer(self.port, env: "INBOXLITE_PORT") ?? 8080
        guard (0...65535).contains(port) else { throw UsageFailure("--port must be between 0 and 65535") }
        let tolerance = try integer(timestampTolerance, env: "INBOXLITE_TIMESTAMP_TOLERANCE") ?? 300
        guard tolerance > 0 else { throw UsageFailure("--timestamp-tolerance must be positive") }
        let maxBody = try integer(maxBodyBytes, env: "INBOXLITE_MAX_BODY_BYTES") ?? 2_097_152
        guard maxBody > 0 else { throw UsageFailure("--max-body-bytes must be positive") }

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
        let durability = try database.resolvedDurability()
        let logLevel = try database.resolvedLogLevel()
        // Secrets are generated last, once every other setting is known to be valid.
        let dataFolder = URL(fileURLWithPath: database.databasePath).deletingLastPathComponent()
        let secret = try configuredOrGenerated(
            webhookSecret ?? environment("INBOXLITE_WEBHOOK_SECRET"),
            file: dataFolder.appendingPathComponent("webhook-secret").path,
            what: "webhook secret", hint: "paste its contents into the gateway session's \"webhookSecret\""
        )
        let token = try configuredOrGenerated(
            apiToken ?? environment("INBOXLITE_API_TOKEN"),
            file: dataFolder.appendingPathComponent("api-token").path,
            what: "API token", hint: "send it as Authorization: Bearer <token> to the query API"
        )
        return AppConfiguration(
            host: host ?? environment("INBOXLITE_HOST") ?? "127.0.0.1",
            port: port,
            databasePath: database.databasePath,
            migrationsDirectory: migrations,
            durability: durability,
            webhookSecret: secret,
            sessionSecrets: sessionSecrets,
            apiToken: token,
            timestampTolerance: TimeInterval(tolerance),
            maxBodyBytes: maxBody,
            logLevel: logLevel
        )
    }

    /// The flag's value, else the environment variable's (which must be a whole number).
    private func integer(_ flag: Int?, env name: String) throws -> Int? {
        if let flag { return flag }
        guard let text = environment(name) else { return nil }
        guard let value = Int(text) else { throw UsageFailure("\(name) must be a whole number, not \"\(text)\"") }
        return value
    }

    private func configuredOrGenerated(_ value: String?, file: String, what: String, hint: String) throws -> String {
        if let value { return value }
        let (secret, created) = try SecretFile.loadOrCreate(at: file)
        print("\(created ? "generated" : "using") \(what) in \(file) (mode 0600): \(hint)")
        FileHandle.standardOutput.synchronizeFile()
        return secret
    }
}
