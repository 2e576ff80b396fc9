import Foundation

/// What administering a store means, whatever the engine: replaying stored deliveries and keeping
/// API tokens. The admin routes and the token registry call these; each engine runs them through
/// its one writer (SQLite: between two batches on the writer thread), so there is never a second
/// writer. Errors: `TokenError` for a token that cannot be made or found, `IngestFailure` when the
/// writer is stopping or the database refused.
public protocol StoreAdministration: Sendable {
    /// Re-applies up to `chunk` deliveries with `status` after id `after`, of the sessions `scope`
    /// allows; nil when none are left.
    func replayChunk(status: DeliveryStatus, after: Int64, chunk: Int, within scope: SessionScope) async throws
        -> (summary: ReplaySummary, lastId: Int64)?
    /// A new token (returned once, with the token itself); `creator` is the asker's scope.
    func createToken(name: String, role: TokenRole, scope: SessionScope, expiresAt: Date?, within creator: SessionScope) async throws
        -> (token: APIToken, secret: String)
    /// Revokes a token by id, name or value, if `scope` covers it.
    func revokeToken(_ idOrName: String, within scope: SessionScope) async throws -> APIToken
    /// The tokens `scope` covers.
    func listTokens(within scope: SessionScope) async throws -> [APIToken]
    /// When tokens were last used (batched by the caller).
    func recordTokenUse(_ uses: [Int64: Date]) async throws
}
