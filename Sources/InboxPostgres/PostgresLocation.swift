import Foundation
import InboxStore
import NIOSSL
import Logging
import PostgresNIO

/// Where the PostgreSQL database is, from `--database-url postgres://USER:PASS@HOST:PORT/DB`
/// (`INBOXLITE_DATABASE_URL`), with the query parameters libpq users know: `sslmode`
/// (disable, prefer — the default —, require, verify-ca, verify-full) and `sslrootcert`. A password
/// left out of the URL is read from a password file (`--database-password-file`), so it need not
/// appear in a process list or an environment dump.
public struct PostgresLocation: Sendable, Equatable, CustomStringConvertible {
    public enum TLSMode: String, Sendable, CaseIterable {
        case disable, prefer, require
        case verifyCA = "verify-ca"
        case verifyFull = "verify-full"
    }

    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String
    public var tlsMode: TLSMode
    public var rootCertificatePath: String?

    /// Why a database URL cannot be used; the message names the part.
    public struct Invalid: Error, CustomStringConvertible, Equatable {
        public let description: String
    }

    /// Parses a URL; `passwordFile` supplies the password when the URL has none.
    public init(url text: String, passwordFile: String? = nil) throws(Invalid) {
        guard let components = URLComponents(string: text), let scheme = components.scheme,
              ["postgres", "postgresql"].contains(scheme.lowercased())
        else { throw Invalid(description: "the database URL must look like postgres://USER:PASSWORD@HOST:PORT/DATABASE") }
        guard let host = components.host, !host.isEmpty else { throw Invalid(description: "the database URL names no host") }
        guard let user = components.user, !user.isEmpty else { throw Invalid(description: "the database URL names no user") }
        let database = String(components.path.drop { $0 == "/" })
        guard !database.isEmpty, !database.contains("/") else { throw Invalid(description: "the database URL names no database (…/DATABASE)") }
        self.host = host
        port = components.port ?? 5432
        username = user.removingPercentEncoding ?? user
        password = components.password.map { $0.removingPercentEncoding ?? $0 }
        self.database = database.removingPercentEncoding ?? database
        tlsMode = .prefer
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let mode = item.value.flatMap(TLSMode.init(rawValue:)) else {
                    throw Invalid(description: "sslmode must be one of \(TLSMode.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                tlsMode = mode
            case "sslrootcert":
                rootCertificatePath = item.value
            default:
                throw Invalid(description: "the database URL parameter \(item.name) is not supported (sslmode and sslrootcert are)")
            }
        }
        if password == nil, let passwordFile {
            guard let contents = try? String(contentsOfFile: passwordFile, encoding: .utf8) else {
                throw Invalid(description: "cannot read the database password file \(passwordFile)")
            }
            password = contents.trimmingCharacters(in: .newlines)
        }
    }

    /// The URL without its password, for logs and messages.
    public var description: String {
        "postgres://\(username)@\(host):\(port)/\(database)?sslmode=\(tlsMode.rawValue)"
    }

    /// The same server, another database (tests make one per test).
    public func database(_ name: String) -> PostgresLocation {
        var copy = self
        copy.database = name
        return copy
    }

    /// TLS as `sslmode` says: nil for disable; prefer and require do not verify the certificate,
    /// as libpq; verify-ca checks the chain, verify-full also the host name. `required`: whether a
    /// server without TLS is refused.
    private func tls() -> (configuration: TLSConfiguration, required: Bool)? {
        var configuration = TLSConfiguration.makeClientConfiguration()
        if let rootCertificatePath { configuration.trustRoots = .file(rootCertificatePath) }
        switch tlsMode {
        case .disable: return nil
        case .prefer, .require: configuration.certificateVerification = .none
        case .verifyCA: configuration.certificateVerification = .noHostnameVerification
        case .verifyFull: configuration.certificateVerification = .fullVerification
        }
        return (configuration, tlsMode != .prefer)
    }

    /// For a pool of connections (the service).
    public func clientConfiguration() throws -> PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS = switch self.tls() {
        case nil: .disable
        case let (configuration, required)?: required ? .require(configuration) : .prefer(configuration)
        }
        return PostgresClient.Configuration(host: host, port: port, username: username, password: password, database: database, tls: tls)
    }

    /// For one connection (a command that migrates and exits: it fails at once when the server
    /// cannot be reached, where a pool keeps retrying).
    public func connectionConfiguration(connectTimeout: TimeAmount = .seconds(10)) throws -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS = switch self.tls() {
        case nil: .disable
        case let (configuration, required)?:
            required ? .require(try NIOSSLContext(configuration: configuration)) : .prefer(try NIOSSLContext(configuration: configuration))
        }
        var configuration = PostgresConnection.Configuration(host: host, port: port, username: username, password: password, database: database, tls: tls)
        configuration.options.connectTimeout = connectTimeout
        return configuration
    }

    /// Opens one connection, with an error that says which server and why, never the password.
    public func connect(logger: Logger) async throws -> PostgresConnection {
        do {
            return try await PostgresConnection.connect(configuration: try connectionConfiguration(), id: 1, logger: logger)
        } catch let error as PSQLError {
            throw unreachable(error)
        }
    }

    /// Opens one connection from a thread that may block (the writer's), never an event loop's.
    public func connectBlocking(id: Int, timeout: TimeAmount, logger: Logger) throws -> PostgresConnection {
        do {
            return try PostgresConnection.connect(
                on: PostgresConnection.defaultEventLoopGroup.any(), configuration: try connectionConfiguration(connectTimeout: timeout),
                id: id, logger: logger
            ).wait()
        } catch let error as PSQLError {
            throw unreachable(error)
        } catch {
            throw Unreachable(location: description, reason: "\(error)")
        }
    }

    private func unreachable(_ error: PSQLError) -> Unreachable {
        let reason = if let message = error.serverInfo?[.message] {
            message
        } else if error.code == .authMechanismRequiresPassword {
            "the server asks for a password: give it in the URL or with --database-password-file"
        } else {
            error.underlying.map { "\($0)" } ?? "\(error.code)"
        }
        return Unreachable(location: description, reason: reason)
    }

    /// The server could not be reached or refused the login: the write may succeed later.
    public struct Unreachable: DatabaseError, CustomStringConvertible {
        public let location: String
        public let reason: String
        public var description: String { "cannot connect to \(location): \(reason)" }
        public var isTransient: Bool { true }
        public var wasInterrupted: Bool { false }
    }
}
