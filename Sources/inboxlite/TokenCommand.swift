import ArgumentParser
import Foundation
import InboxStore

/// `inboxlite token create|list|revoke`: API tokens with a role and sessions. While a service holds the
/// SQLite file they go through it (`/api/admin/tokens`, with an admin token), so there is one
/// writer; on PostgreSQL they are written directly (every node sees a new or revoked token within a second).
struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Create, list and revoke API tokens.",
        subcommands: [Create.self, List.self, Revoke.self]
    )

    /// Options every token command shares.
    struct Common: ParsableArguments {
        @OptionGroup var access: WriterAccess

        /// Runs `local` on this process's own writer, or `remote` through the service holding the SQLite file.
        func run<T>(local: (InboxWriter) throws -> T, remote: (ServiceClient) async throws -> T) async throws -> T {
            do {
                return try await access.run("manage tokens", local: local, remote: remote)
            } catch let error as TokenError {
                throw UsageFailure(error.description)
            }
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a token; it is printed once, alone on the last line. Only its hash is kept."
        )
        @OptionGroup var common: Common
        @Option(help: "A name to recognise it by (unique).") var name: String
        @Option(help: "read (every GET and the event stream) or admin (also replay and tokens; metrics with every session).")
        var role: String = "read"
        @Option(name: .customLong("session"), help: "A session the token may see (repeat for several; default: every session).")
        var sessions: [String] = []
        @Option(help: "Days until it stops working (default: never).") var expiresDays: Int?

        func run() async throws {
            guard let role = TokenRole(rawValue: role) else { throw UsageFailure("--role must be read or admin") }
            if let days = expiresDays, !APITokens.expiryDays.contains(days) { throw UsageFailure("--expires-days must be 1 to 3650") }
            let expires = expiresDays.map { APITokens.expiry(days: $0) }
            let scope: SessionScope
            do {
                scope = try SessionScope.limited(to: sessions)
            } catch {
                throw UsageFailure("--session: \(error.description)")
            }
            let seen = Self.describe(scope.sortedSessions)
            let (summary, secret) = try await common.run(local: { writer in
                let (token, secret) = try writer.createToken(name: name, role: role, scope: scope, expiresAt: expires)
                return ("token \(token.id) \(token.name): \(token.role.rawValue), \(seen), expires \(token.expiresAt ?? "never")", secret)
            }, remote: { client in
                var body: [String: Any] = ["name": name, "role": role.rawValue]
                if let expiresDays { body["expires_days"] = expiresDays }
                if let sessions = scope.sortedSessions { body["sessions"] = sessions }
                let (code, object) = try await client.send("POST", "/api/admin/tokens", json: body)
                guard code == 201, let data = object["data"] as? [String: Any], let secret = data["token"] as? String else {
                    throw UsageFailure("the service at \(client.base) answered \(code): \(object["message"] ?? object)")
                }
                return ("token \(data["id"] ?? "?") \(name): \(role.rawValue), \(seen), expires \(data["expires_at"] as? String ?? "never")", secret)
            })
            print(summary)
            print("Keep it now: it is not shown again.")
            print(secret)
        }

        /// "every session" or "sessions a, b".
        static func describe(_ sessions: [String]?) -> String {
            sessions.map { "sessions " + $0.joined(separator: ", ") } ?? "every session"
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tokens (never the tokens themselves).")
        @OptionGroup var common: Common

        func run() async throws {
            let rows: [[String: Any]] = try await common.run(local: { writer in
                try writer.listTokens().map { token in
                    ["id": token.id, "name": token.name, "role": token.role.rawValue, "token_prefix": token.tokenPrefix,
                     "created_at": token.createdAt, "last_used_at": token.lastUsedAt ?? "", "expires_at": token.expiresAt ?? "",
                     "revoked_at": token.revokedAt ?? "", "sessions": token.sessions as Any]
                }
            }, remote: { client in
                let (code, object) = try await client.send("GET", "/api/admin/tokens")
                guard code == 200, let data = object["data"] as? [[String: Any]] else {
                    throw UsageFailure("the service at \(client.base) answered \(code): \(object["message"] ?? object)")
                }
                return data
            })
            print(["id", "name", "role", "prefix", "sessions", "created", "last used", "expires", "revoked"].joined(separator: "\t"))
            for row in rows {
                let cell = { (key: String) in (row[key].map { "\($0)" }).flatMap { $0.isEmpty || $0 == "<null>" ? nil : $0 } ?? "-" }
                let sessions = (row["sessions"] as? [String]).map { $0.joined(separator: ",") } ?? "all"
                print([cell("id"), cell("name"), cell("role"), cell("token_prefix") + "…", sessions, cell("created_at"),
                       cell("last_used_at"), cell("expires_at"), cell("revoked_at")].joined(separator: "\t"))
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token by id, name or the token itself: it stops working within a second.")
        @OptionGroup var common: Common
        @Argument(help: "The token's id, name, or the token itself.") var token: String

        func run() async throws {
            let name: String = try await common.run(local: { writer in
                try writer.revokeToken(token).name
            }, remote: { client in
                let path = "/api/admin/tokens/" + (token.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(["/"])) ?? token)
                let (code, object) = try await client.send("DELETE", path)
                guard code == 200, let data = object["data"] as? [String: Any] else {
                    throw UsageFailure("the service at \(client.base) answered \(code): \(object["message"] ?? object)")
                }
                return data["name"] as? String ?? token
            })
            print("revoked token \(name)")
        }
    }
}
