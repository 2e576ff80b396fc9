import Foundation
import Hummingbird
import InboxHTTP
import InboxStore

/// Requires `Authorization: Bearer <token>` with at least `role`. Attach it to a route group: it
/// never looks at the path, so no spelling of a path can get around it. A read token on an admin
/// route is 403 `forbidden`; an unknown or revoked token 401 `unauthorized`, an expired one 401
/// `token_expired`.
public struct BearerAuthMiddleware<Context: RequestContext>: RouterMiddleware {
    let registry: TokenRegistry
    let role: TokenRole

    public init(registry: TokenRegistry, role: TokenRole) {
        self.registry = registry
        self.role = role
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let access: TokenRegistry.Access
        do {
            access = try await registry.access(authorization: request.headers.value(.authorization))
        } catch TokenRegistry.Refusal.expired {
            throw QueryError.tokenExpired
        } catch is TokenRegistry.Refusal {
            throw QueryError.unauthorized
        }
        guard role == .read || access.role == .admin else { throw QueryError.forbidden }
        return try await next(request, context)
    }
}
