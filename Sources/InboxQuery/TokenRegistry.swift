import Crypto
import Foundation
import InboxStore
import NIOConcurrencyHelpers

/// Who a bearer token is: the token set at start (an admin of every session), or a row of
/// `api_tokens`, known by its hash, with its role and sessions.
///
/// The table is read again at most a second after the last reading, so a token revoked or made
/// by the CLI or another request bites within a second, without a query per request. Last use is
/// kept in memory and written through the writer at most once a minute per token.
public final class TokenRegistry: Sendable {
    /// Why a token is refused.
    public enum Refusal: Error, Equatable {
        /// Unknown, revoked or missing: the same answer for each.
        case unknown
        case expired
    }

    private let key = SymmetricKey(size: .bits256)
    private let startToken: HashedAuthenticationCode<SHA256>
    private let pool: ReadPool
    private let recordUse: @Sendable ([Int64: Date]) async -> Void
    private let state = NIOLockedValueBox(State())
    public static let refreshInterval: TimeInterval = 1
    public static let useInterval: TimeInterval = 60

    struct State {
        var grants: [String: APITokens.Grant] = [:]
        var loadedAt: Date = .distantPast
        var lastRecorded: [Int64: Date] = [:]
    }

    public init(startToken: String, pool: ReadPool, recordUse: @escaping @Sendable ([Int64: Date]) async -> Void) {
        self.startToken = HMAC<SHA256>.authenticationCode(for: Data(startToken.utf8), using: key)
        self.pool = pool
        self.recordUse = recordUse
    }

    /// The access of the bearer token in an `Authorization` header value.
    public func access(authorization header: String?, now: Date = Date()) async throws -> TokenAccess {
        guard let header, header.count > 7, header.prefix(7).lowercased() == "bearer " else { throw Refusal.unknown }
        let token = Data(header.dropFirst(7).utf8)
        // The start token is compared as HMAC digests under a per-process key, in constant time.
        if HMAC<SHA256>.isValidAuthenticationCode(startToken, authenticating: token, using: key) {
            return .startToken
        }
        // Others by the SHA-256 of what was sent: a lookup learns nothing an attacker could use.
        let hash = SHA256.hash(data: token).hexString
        guard let grant = try await grant(hash, now: now), !grant.revoked else { throw Refusal.unknown }
        if let expires = grant.expiresAt, expires <= now { throw Refusal.expired }
        if let id = grant.access.tokenId { noteUse(id, at: now) }
        return grant.access
    }

    /// Whether the token is still valid (an open event stream asks every second).
    public func stillValid(authorization header: String?, now: Date = Date()) async -> Bool {
        (try? await access(authorization: header, now: now)) != nil
    }

    /// The token's grant; one made since the last reading is looked up by its hash at once, so a
    /// new token works on its first request. A revoked token is looked up the same way as an
    /// unknown one, so the two are refused alike and in the same time.
    private func grant(_ hash: String, now: Date) async throws -> APITokens.Grant? {
        if let known = try await grants(now: now)[hash], !known.revoked { return known }
        guard let found = try await pool.read({ db in try APITokens.grant(hash, db) }) else { return nil }
        state.withLockedValue { $0.grants[hash] = found }
        return found
    }

    private func grants(now: Date) async throws -> [String: APITokens.Grant] {
        let (current, fresh) = state.withLockedValue { ($0.grants, now.timeIntervalSince($0.loadedAt) < Self.refreshInterval) }
        if fresh { return current }
        let loaded = try await pool.read { db in try APITokens.grants(db) }
        state.withLockedValue { state in
            state.grants = loaded
            state.loadedAt = now
        }
        return loaded
    }

    private func noteUse(_ id: Int64, at now: Date) {
        let due = state.withLockedValue { state -> Bool in
            if let last = state.lastRecorded[id], now.timeIntervalSince(last) < Self.useInterval { return false }
            state.lastRecorded[id] = now
            return true
        }
        if due {
            let record = recordUse
            Task { await record([id: now]) }
        }
    }
}
