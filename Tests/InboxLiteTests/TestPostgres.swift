import Foundation
import InboxPostgres
import InboxStore
import Logging

/// Databases of the test PostgreSQL server (`INBOXLITE_TEST_POSTGRES_URL`, a throwaway cluster
/// `scripts/test` starts): one per `TestInbox`, dropped when it is removed.
enum TestPostgres {
    static let logger = Logger(label: "test-postgres")

    static var server: PostgresLocation {
        get throws {
            guard let url = ProcessInfo.processInfo.environment["INBOXLITE_TEST_POSTGRES_URL"] else {
                throw ConfigurationFailure("INBOXLITE_TEST_ENGINE=postgresql needs INBOXLITE_TEST_POSTGRES_URL (scripts/test sets both)")
            }
            return try PostgresLocation(url: url)
        }
    }

    struct ConfigurationFailure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    static func createDatabase() throws -> PostgresLocation {
        let name = "inboxlite_test_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased())"
        let admin = PostgresBlockingConnection(location: try server, logger: logger)
        defer { admin.close() }
        try admin.run("CREATE DATABASE \(name)")
        return try server.database(name)
    }

    static func dropDatabase(_ database: PostgresLocation) {
        guard let admin = try? PostgresBlockingConnection(location: server, logger: logger) else { return }
        defer { admin.close() }
        _ = try? admin.run("DROP DATABASE IF EXISTS \(database.database) WITH (FORCE)")
    }
}
