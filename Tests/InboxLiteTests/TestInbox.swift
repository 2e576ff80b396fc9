import InboxEvents
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import InboxLite
import InboxPostgres
@testable import InboxStore
import Logging
import NIOCore
import ServiceLifecycleTestKit
import WebhookReceiver

/// A real InboxLite on a real SQLite file in a fresh temp folder — or, when the suite runs with
/// `INBOXLITE_TEST_ENGINE=postgresql`, on a fresh database of the PostgreSQL server in
/// `INBOXLITE_TEST_POSTGRES_URL` — plus helpers to sign webhooks the way the gateway does and to
/// look at the resulting rows. `scripts/test` runs the suite once per engine.
struct TestInbox {
    /// The engine this run of the suite tests.
    static let engine: StoreEngine = ProcessInfo.processInfo.environment["INBOXLITE_TEST_ENGINE"] == "postgresql" ? .postgresql : .sqlite
    static var onSQLite: Bool { engine == .sqlite }

    static let secret = "test-default-secret"
    static let migrations = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Migrations")

    let folder: URL
    var configuration: AppConfiguration

    init(sessionSecrets: [String: [String]] = [:], maxBodyBytes: Int = 65_536, folder: URL? = nil) throws {
        let folder = folder ?? FileManager.default.temporaryDirectory
            .appendingPathComponent("inboxlite-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        self.folder = folder
        configuration = AppConfiguration(
            host: "127.0.0.1", port: 0,
            databasePath: folder.appendingPathComponent("inbox.sqlite").path,
            migrationsDirectory: Self.migrations,
            openAPIDocument: Self.migrations.deletingLastPathComponent().appendingPathComponent("openapi.yaml"),
            consoleDirectory: Self.migrations.deletingLastPathComponent().appendingPathComponent("Console"),
            webhookSecret: Self.secret, sessionSecrets: sessionSecrets,
            apiToken: "test-token", timestampTolerance: 300, maxBodyBytes: maxBodyBytes,
            logLevel: .warning
        )
        if Self.engine == .postgresql {
            configuration.postgres = try TestPostgres.createDatabase()
        }
    }

    func remove() {
        try? FileManager.default.removeItem(at: folder)
        if let database = configuration.postgres { TestPostgres.dropDatabase(database) }
    }

    /// Runs `test` against the real application, then shuts it down (draining the writer).
    func run<Value: Sendable>(
        _ setup: TestingSetup = .router, _ test: @escaping @Sendable (any TestClientProtocol) async throws -> Value
    ) async throws -> Value {
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        let app = try await buildApplication(configuration: configuration, logger: logger)
        return try await app.test(setup) { client in try await test(client) }
    }

    /// Runs the real application on a real socket (port 0) under a graceful-shutdown trigger.
    /// `test` gets the bound port and `stop`, which triggers graceful shutdown (as SIGTERM would)
    /// and returns how long the service took to finish; the service is stopped after `test` in
    /// any case.
    func live<Value: Sendable>(
        _ test: @escaping @Sendable (_ port: Int, _ stop: @escaping @Sendable () async throws -> Duration) async throws -> Value
    ) async throws -> Value {
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let app = try await buildApplication(configuration: configuration, logger: logger) { port in
            portContinuation.yield(port)
        }
        return try await testGracefulShutdown { trigger in
            // An unstructured task inherits the graceful-shutdown context of this scope.
            let running = Task { try await app.run() }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else { throw CancellationError() }
            let stop: @Sendable () async throws -> Duration = {
                let started = ContinuousClock.now
                trigger.triggerGracefulShutdown()
                try await running.value
                return ContinuousClock.now - started
            }
            do {
                let value = try await test(port, stop)
                _ = try await stop()
                return value
            } catch {
                _ = try? await stop()
                throw error
            }
        }
    }

    /// Rows from the database through a read-only connection.
    func rows(_ sql: String, _ arguments: any SQLBindable...) throws -> [SQLRow] {
        let sql = Self.portable(sql)
        if let database = configuration.postgres {
            let reader = PostgresBlockingConnection(location: database, role: .reader(timeLimit: 10), logger: Logger(label: "test"))
            defer { reader.close() }
            return try reader.query(sql, arguments: arguments)
        }
        let reader = try InboxDatabase.openReader(configuration.store)
        return try reader.query(sql, arguments: arguments)
    }

    /// A writer of the test's database, outside the service (set-up steps that stand for an older
    /// build or a clock moving on); statements run in one transaction.
    func withWriter<T>(_ body: (InboxWriter) throws -> T) throws -> T {
        if let database = configuration.postgres {
            let connection = PostgresBlockingConnection(location: database, logger: Logger(label: "test"))
            defer { connection.close() }
            return try body(try InboxWriter(database: connection))
        }
        let owner = try StoreOwner(configuration.store)
        defer { owner.release() }
        return try body(try owner.makeWriter())
    }

    /// Runs statements (separated by `;`) in one write transaction.
    func execute(_ statements: String) throws {
        try withWriter { writer in
            try writer.db.transaction {
                for statement in statements.split(separator: ";") where !statement.allSatisfy(\.isWhitespace) {
                    try writer.db.run(String(statement), arguments: [])
                }
            }
        }
    }

    /// How many migrations this build ships for the engine under test.
    static var migrationCount: Int {
        get throws {
            try Migration.load(from: engine == .sqlite ? migrations : migrations.appendingPathComponent("postgresql")).count
        }
    }

    /// Test SQL written for SQLite, in the engine's dialect (`group_concat` is `string_agg`).
    static func portable(_ sql: String) -> String {
        engine == .sqlite ? sql : sql.replacingOccurrences(of: "group_concat(", with: "string_agg(")
    }

    /// A member (at a path of keys) of a stored JSON text column, as text, in the engine's SQL.
    static func jsonPath(_ column: String, _ keys: String...) -> String {
        engine == .sqlite
            ? "json_extract(\(column), '$.\(keys.joined(separator: "."))')"
            : "(\(column)::json #>> '{\(keys.joined(separator: ","))}')"
    }

    func count(_ table: String, where condition: String = "true") throws -> Int {
        try rows("SELECT count(*) FROM \(table) WHERE \(condition)").first?.int(0) ?? -1
    }
}

/// One webhook as the gateway would send it.
struct SignedWebhook {
    var body: [UInt8]
    var headers: HTTPFields

    /// Signs `json` with `secret`; `timestamp` is the X-Webhook-Timestamp (ms), nil to omit.
    init(json: String, secret: String = TestInbox.secret, session: String? = "crm", event: String? = nil,
         timestamp: Int64? = Int64(Date().timeIntervalSince1970 * 1000), signature: String? = nil) {
        body = Array(json.utf8)
        headers = [.contentType: "application/json"]
        headers[.webhookSignature] = signature ?? WebhookSigner.signature(for: body, secret: secret)
        if let timestamp { headers[.webhookTimestamp] = String(timestamp) }
        if let session { headers[.webhookSession] = session }
        if let event { headers[.webhookEvent] = event }
    }
}

extension SignedWebhook {
    /// The webhook as a raw HTTP/1.1 request, for `RawHTTPConnection`.
    func rawRequest(path: String) -> String {
        var text = "POST \(path) HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: \(body.count)\r\n"
        for field in headers { text += "\(field.name.rawName): \(field.value)\r\n" }
        return text + "\r\n" + String(decoding: body, as: UTF8.self)
    }
}

extension TestClientProtocol {
    /// Posts a webhook to the receiver and returns status and decoded JSON.
    @discardableResult
    func post(_ webhook: SignedWebhook, path: String = "/webhooks/inbox-hub") async throws -> (HTTPResponse.Status, [String: Any]) {
        try await execute(uri: path, method: .post, headers: webhook.headers, body: ByteBuffer(bytes: webhook.body)) { response in
            let object = (try? JSONSerialization.jsonObject(with: Data(buffer: response.body))) as? [String: Any] ?? [:]
            return (response.status, object)
        }
    }
}

extension TestClientProtocol {
    /// Posts a webhook and returns only the status.
    func status(_ webhook: SignedWebhook, path: String = "/webhooks/inbox-hub") async throws -> HTTPResponse.Status {
        try await post(webhook, path: path).0
    }
}

/// Builds gateway payloads with sensible defaults; every value can be overridden.
enum Payload {
    static var nowISO: String { Timestamps.iso(Date()) }

    static func envelope(_ event: String, session: String? = "crm", data: String, timestamp: String? = nil) -> String {
        var fields = [#""event":"\#(event)""#]
        if let session { fields.append(#""sessionId":"\#(session)""#) }
        fields.append(#""data":\#(data)"#)
        fields.append(#""timestamp":"\#(timestamp ?? nowISO)""#)
        return "{" + fields.joined(separator: ",") + "}"
    }

    static func received(
        key: String, from: String = "34612345678@c.us", author: String? = nil, body: String = "Hola",
        timestamp: Int = 1_729_443_600, session: String = "crm", extra: String = ""
    ) -> String {
        let authorField = author.map { #","author":"\#($0)""# } ?? ""
        return envelope("message.received", session: session, data: """
            {"id":{"fromMe":false,"remote":"\(from)","id":"\(key)","_serialized":"false_\(from)_\(key)_in"},\
            "body":"\(body)","type":"chat","timestamp":\(timestamp),"from":"\(from)","to":"34657032985@c.us",\
            "fromMe":false,"hasMedia":false,"isForwarded":false,"isStatus":false,"quotedMsgId":null\(authorField)\(extra)}
            """)
    }

    static func sent(key: String, to: String = "34612345678@c.us", body: String = "Respuesta", timestamp: Int = 1_729_443_610, session: String = "crm") -> String {
        envelope("message.sent", session: session, data: """
            {"id":{"fromMe":true,"remote":"\(to)","id":"\(key)","_serialized":"true_\(to)_\(key)_out"},\
            "body":"\(body)","timestamp":\(timestamp),"from":"34657032985@c.us","to":"\(to)","fromMe":true}
            """)
    }

    static func ack(_ messageId: String, _ ack: Int, session: String = "crm", timestamp: Int = 1_729_443_650) -> String {
        envelope("message.ack", session: session, data: #"{"messageId":"\#(messageId)","ack":\#(ack),"timestamp":\#(timestamp)}"#)
    }
}
