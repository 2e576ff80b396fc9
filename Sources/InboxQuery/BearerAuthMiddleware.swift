import Foundation
import Hummingbird
import InboxHTTP
import InboxStore

/// Requires `Authorization: Bearer <token>` allowed `requirement`, and puts the token's access
/// (role, sessions) in the request context for the handlers. Attach it to a route group: it
/// never looks at the path, so no spelling of a path can get around it. A read token on an admin
/// route is 403 `forbidden`; an unknown or revoked token 401 `unauthorized`, an expired one 401
/// `token_expired`.
public struct BearerAuthMiddleware<Context: AuthorizedRequestContext>: RouterMiddleware {
    /// What a route group needs of a token.
    public enum Requirement: Sendable {
        /// Any valid token (its sessions narrow what it sees).
        case read
        /// An admin token (its sessions narrow what it changes).
        case admin
        /// An admin token for every session: routes whose answer cannot be narrowed (`/metrics`).
        case adminOfEverySession
    }

    let registry: TokenRegistry
    let requirement: Requirement

    public init(registry: TokenRegistry, requirement: Requirement) {
        self.registry = registry
        self.requirement = requirement
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let access: TokenAccess
        do {
            access = try await registry.access(authorization: request.headers.value(.authorization))
        } catch TokenRegistry.Refusal.expired {
            throw AuthorizationError.tokenExpired
        } catch is TokenRegistry.Refusal {
            throw AuthorizationError.unauthorized
        }
        switch requirement {
        case .read: break
        case .admin, .adminOfEverySession:
            guard access.role == .admin else { throw AuthorizationError.adminOnly }
            guard requirement == .admin || access.scope.isEverySession else { throw AuthorizationError.everySessionOnly }
        }
        var context = context
        context.access = access
        return try await next(request, context)
    }
}
