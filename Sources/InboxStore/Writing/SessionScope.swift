import Foundation

/// Which sessions' data a token may see and change: every session, or a set of them.
///
/// One agency can host several businesses' numbers on one InboxLite; each business's CRM gets a
/// token limited to its own sessions. Every read and every admin action narrows by this one type,
/// so "may this token see that row" has a single answer.
public struct SessionScope: Sendable, Equatable, Hashable {
    /// nil: every session, including deliveries that named none.
    public let sessions: Set<String>?

    public static let everySession = SessionScope(sessions: nil)
    /// Nothing at all (a filter that matches no session the token may see).
    public static let nothing = SessionScope(sessions: [])

    public init(sessions: Set<String>?) {
        self.sessions = sessions
    }

    /// The sessions a token may be limited to: at most this many, each at most `maxIdLength`
    /// characters (as long as a session filter may be).
    public static let maxSessions = 500
    public static let maxIdLength = 200

    /// Checks a list asked for at creation; nil or empty: every session.
    public static func limited(to sessions: [String]?) throws(TokenError) -> SessionScope {
        guard let sessions, !sessions.isEmpty else { return .everySession }
        guard sessions.count <= maxSessions else { throw .badSessions("a token can be limited to at most \(maxSessions) sessions") }
        for session in sessions where session.isEmpty || session.unicodeScalars.count > maxIdLength {
            throw .badSessions("a session id must be 1 to \(maxIdLength) characters")
        }
        return SessionScope(sessions: Set(sessions))
    }

    public var isEverySession: Bool { sessions == nil }

    /// Whether a row of `session` may be seen; a row without a session only with every session.
    public func allows(_ session: String?) -> Bool {
        guard let sessions else { return true }
        return session.map(sessions.contains) ?? false
    }

    /// Whether everything `other` may see, this scope may see too.
    public func covers(_ other: SessionScope) -> Bool {
        guard let sessions else { return true }
        guard let theirs = other.sessions else { return false }
        return theirs.isSubset(of: sessions)
    }

    /// This scope narrowed to one session a request asked for (`?session=`): that session if the
    /// scope allows it, else nothing — never an error, so a list never tells a session exists.
    public func narrowed(to session: String?) -> SessionScope {
        guard let session else { return self }
        return allows(session) ? SessionScope(sessions: [session]) : .nothing
    }

    /// ` AND column IN (?, …)` and its values, to append to a WHERE clause; nothing when every
    /// session may be seen. An empty scope is a condition no row meets. The one way every query
    /// narrows to a token's sessions.
    public func restriction(on column: String) -> (sql: String, values: [any SQLBindable]) {
        guard let sessions else { return ("", []) }
        guard !sessions.isEmpty else { return (" AND 0", []) }
        let values = sessions.sorted()
        return (" AND \(column) IN (\(Array(repeating: "?", count: values.count).joined(separator: ", ")))", values)
    }

    /// Sorted, for showing and storing.
    public var sortedSessions: [String]? { sessions.map { $0.sorted() } }

    /// As `api_tokens.sessions` stores it: NULL for every session, else a JSON array.
    var stored: String? {
        sortedSessions.map { String(decoding: try! JSONEncoder().encode($0), as: UTF8.self) }
    }

    /// From `api_tokens.sessions`. Text that is not an array of strings limits the token to
    /// nothing: a damaged row must never widen what a token sees.
    init(stored: String?) {
        guard let stored else { self = .everySession; return }
        let list = try? JSONDecoder().decode([String].self, from: Data(stored.utf8))
        self = SessionScope(sessions: Set(list ?? []))
    }
}

/// What a request is allowed once its bearer token is known: the token's role and sessions.
public struct TokenAccess: Sendable, Equatable {
    public let role: TokenRole
    /// nil: the token set at start.
    public let tokenId: Int64?
    public let scope: SessionScope

    public init(role: TokenRole, tokenId: Int64?, scope: SessionScope) {
        self.role = role
        self.tokenId = tokenId
        self.scope = scope
    }

    /// The token set at start: an admin of every session.
    public static let startToken = TokenAccess(role: .admin, tokenId: nil, scope: .everySession)
}
