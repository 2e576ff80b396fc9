import Crypto
import Foundation
import InboxEvents

/// What a token may do: `read` every GET of the query API and the event stream; `admin` also
/// replay, token management and metrics.
public enum TokenRole: String, Sendable, Codable, CaseIterable {
    case read, admin
}

/// An API token as stored (never the token itself: only its hash is kept).
public struct APIToken: Sendable, Equatable, Codable {
    public let id: Int64
    public let name: String
    public let tokenPrefix: String
    public let role: TokenRole
    public let createdAt: String
    public let expiresAt: String?
    public let revokedAt: String?
    public let lastUsedAt: String?
    /// The sessions it may see; nil (JSON null): every session.
    public let sessions: [String]?

    /// What it may see, as every check uses it.
    public var scope: SessionScope { SessionScope(sessions: sessions.map(Set.init)) }

    enum CodingKeys: String, CodingKey {
        case id, name, role, sessions
        case tokenPrefix = "token_prefix", createdAt = "created_at", expiresAt = "expires_at"
        case revokedAt = "revoked_at", lastUsedAt = "last_used_at"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(name, forKey: .name)
        try container.encode(tokenPrefix, forKey: .tokenPrefix)
        try container.encode(role, forKey: .role)
        try container.encode(sessions, forKey: .sessions)  // null, not left out: null means every session
        try container.encode(createdAt, forKey: .createdAt)
        try container.encodeIfPresent(expiresAt, forKey: .expiresAt)
        try container.encodeIfPresent(revokedAt, forKey: .revokedAt)
        try container.encodeIfPresent(lastUsedAt, forKey: .lastUsedAt)
    }

    /// The columns a row must be selected with, in this order (`APIToken.columns`).
    static let columns = "id, name, token_prefix, role, created_at, expires_at, revoked_at, last_used_at, sessions"

    init(_ row: SQLRow) {
        id = Int64(row.int(0) ?? 0)
        name = row.string(1) ?? ""
        tokenPrefix = row.string(2) ?? ""
        role = TokenRole(rawValue: row.string(3) ?? "") ?? .read
        createdAt = row.string(4) ?? ""
        expiresAt = row.string(5)
        revokedAt = row.string(6)
        lastUsedAt = row.string(7)
        sessions = SessionScope(stored: row.string(8)).sortedSessions
    }
}

/// Why a token could not be created or found.
public enum TokenError: Error, Equatable, CustomStringConvertible {
    case nameTaken(String)
    case badName
    case notFound(String)
    case badSessions(String)
    /// A token limited to some sessions asked for a token that sees others.
    case beyondScope

    public var description: String {
        switch self {
        case .badSessions(let problem): return problem
        case .beyondScope: return "a token limited to some sessions can only make tokens limited to those sessions"
        case .nameTaken(let name): return "a token named \(name) already exists"
        case .badName: return "a token's name must be 1 to 100 characters"
        case .notFound(let what): return "no token \(what)"
        }
    }
}

/// Tokens: made, hashed and looked up the same way by the writer, the CLI and the query side.
public enum APITokens {
    /// `il_` and 48 hex digits (24 random bytes): recognisable in a leaked log or config.
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        return "il_" + (0..<24).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }

    /// How many days a token may be made to last (`--expires-days`, `expires_days`).
    public static let expiryDays = 1...3650

    /// When a token made now for `days` days stops working.
    public static func expiry(days: Int, from now: Date = Date()) -> Date {
        now.addingTimeInterval(TimeInterval(days) * 86_400)
    }

    /// Lowercase hex SHA-256: what is stored and compared.
    public static func hash(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).hexString
    }

    /// What authentication needs of every token: by hash, its id, role, sessions, expiry and revocation.
    public struct Grant: Sendable, Equatable {
        public let access: TokenAccess
        public let expiresAt: Date?
        public let revoked: Bool

        /// From a row selected as `grantColumns`.
        init(_ row: SQLRow) {
            access = TokenAccess(role: TokenRole(rawValue: row.string(2) ?? "") ?? .read, tokenId: Int64(row.int(1) ?? 0),
                                 scope: SessionScope(stored: row.string(5)))
            expiresAt = row.string(3).flatMap(Timestamps.parse)
            revoked = row.bool(4)
        }
    }

    public static func grants(_ db: any SQLDatabase) throws -> [String: Grant] {
        var grants: [String: Grant] = [:]
        for row in try db.query("SELECT \(grantColumns) FROM api_tokens") {
            guard let hash = row.string(0) else { continue }
            grants[hash] = Grant(row)
        }
        return grants
    }

    /// One token's grant, by the hash of the token (the unique index).
    public static func grant(_ hash: String, _ db: any SQLDatabase) throws -> Grant? {
        try db.queryFirst("SELECT \(grantColumns) FROM api_tokens WHERE token_sha256 = ?", hash).map(Grant.init)
    }

    private static let grantColumns = "token_sha256, id, role, expires_at, revoked_at IS NOT NULL, sessions"

    /// The tokens a holder of `scope` may see: those that see nothing beyond it.
    public static func list(_ db: any SQLDatabase, within scope: SessionScope = .everySession) throws -> [APIToken] {
        try db.query("SELECT \(APIToken.columns) FROM api_tokens ORDER BY id").map(APIToken.init).filter { scope.covers($0.scope) }
    }
}

extension InboxWriter {
    /// A new token limited to `scope`; the token itself is returned once and only its hash is
    /// stored. `within` is the scope of whoever asks: a token can only be made by one that sees
    /// at least as much.
    public func createToken(name: String, role: TokenRole, scope: SessionScope = .everySession, expiresAt: Date?,
                            within creator: SessionScope = .everySession, now: Date = Date()) throws -> (token: APIToken, secret: String) {
        guard (1...100).contains(name.unicodeScalars.count) else { throw TokenError.badName }
        guard creator.covers(scope) else { throw TokenError.beyondScope }
        guard try db.queryFirst("SELECT 1 FROM api_tokens WHERE name = ?", name) == nil else { throw TokenError.nameTaken(name) }
        let secret = APITokens.generate()
        let id = try db.insertReturningId(
            """
            INSERT INTO api_tokens (name, token_prefix, token_sha256, role, created_at, expires_at, sessions) VALUES (?, ?, ?, ?, ?, ?, ?)
            """,
            name, String(secret.prefix(9)), APITokens.hash(secret), role.rawValue, Timestamps.iso(now), expiresAt.map(Timestamps.iso),
            scope.stored
        )
        let row = try db.queryFirst("SELECT \(APIToken.columns) FROM api_tokens WHERE id = ?", id.unwrapped())
        return (APIToken(try row.unwrapped()), secret)
    }

    /// Revokes the token with this id, name, or the token itself (a leaked token found somewhere
    /// can be revoked as it is). A revoked one stays revoked, with its first time. A token that
    /// sees beyond `scope` (the asker's) is not found, exactly like a missing one.
    public func revokeToken(_ idOrName: String, within scope: SessionScope = .everySession, now: Date = Date()) throws -> APIToken {
        let id = Int64(idOrName)
        guard let row = try db.queryFirst(
            """
            SELECT \(APIToken.columns) FROM api_tokens WHERE id = ? OR name = ? OR token_sha256 = ?
            ORDER BY name = ? DESC LIMIT 1
            """,
            id ?? -1, idOrName, APITokens.hash(idOrName), idOrName
        ), scope.covers(APIToken(row).scope) else { throw TokenError.notFound(idOrName.hasPrefix("il_") ? "with that value" : idOrName) }
        let token = APIToken(row)
        try db.run("UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?", Timestamps.iso(now), token.id)
        return APIToken(try db.queryFirst("SELECT \(APIToken.columns) FROM api_tokens WHERE id = ?", token.id).unwrapped())
    }

    public func listTokens(within scope: SessionScope = .everySession) throws -> [APIToken] {
        try APITokens.list(db, within: scope)
    }

    /// Records when tokens were last used (the query side batches these, at most one a minute each).
    public func recordTokenUse(_ uses: [Int64: Date]) throws {
        for (id, time) in uses {
            try db.run("UPDATE api_tokens SET last_used_at = \(db.dialect.greatest)(COALESCE(last_used_at, ''), ?) WHERE id = ?", Timestamps.iso(time), id)
        }
    }
}

extension Optional {
    /// The row (or id) a statement just wrote, which must be there.
    func unwrapped() throws -> Wrapped {
        guard let self else { throw SQLiteError(code: 1, message: "the \(Wrapped.self) just written was not found") }
        return self
    }
}
