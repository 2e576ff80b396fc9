import Foundation
import InboxStore
import InboxPostgres
import Logging
import PostgresNIO
import Testing

/// The PostgreSQL server the tests use: the throwaway cluster `scripts/test` starts and names in
/// `INBOXLITE_TEST_POSTGRES_URL`. Each test gets a database of its own, dropped at the end, as
/// the SQLite tests get a temp folder.
enum PostgresTestServer {
    static let url = ProcessInfo.processInfo.environment["INBOXLITE_TEST_POSTGRES_URL"]
    static var available: Bool { url != nil }
    static let logger = Logger(label: "postgres-test")

    static let migrationsRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Migrations")

    /// Runs `body` with a fresh, empty database and a running client for it; drops it afterwards.
    static func withDatabase<T: Sendable>(_ body: @Sendable (PostgresLocation, PostgresClient) async throws -> T) async throws -> T {
        let server = try PostgresLocation(url: try #require(url))
        let name = "inboxlite_test_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased())"
        try await withClient(server) { admin in
            _ = try await admin.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: logger)
        }
        do {
            let location = server.database(name)
            let value = try await withClient(location) { client in try await body(location, client) }
            try await drop(name, on: server)
            return value
        } catch {
            try? await drop(name, on: server)
            throw error
        }
    }

    /// `withDatabase`, with this build's migrations applied.
    static func withMigratedDatabase<T: Sendable>(_ body: @Sendable (PostgresLocation) async throws -> T) async throws -> T {
        try await withDatabase { location, client in
            try await PostgresMigrator(migrations: Migration.load(from: migrationsRoot.appendingPathComponent("postgresql")))
                .migrate(client, logger: logger)
            return try await body(location)
        }
    }

    static func drop(_ name: String, on server: PostgresLocation) async throws {
        try await withClient(server) { admin in
            _ = try await admin.query(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"), logger: logger)
        }
    }

    /// A client running for the duration of `body`.
    static func withClient<T: Sendable>(_ location: PostgresLocation, _ body: @Sendable (PostgresClient) async throws -> T) async throws -> T {
        let client = PostgresClient(configuration: try location.clientConfiguration(), backgroundLogger: logger)
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { await client.run(); return nil }
            defer { group.cancelAll() }
            let value = try await body(client)
            return value
        }
    }
}
