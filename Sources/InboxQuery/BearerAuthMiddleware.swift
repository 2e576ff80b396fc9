import Crypto
import Foundation
import Hummingbird

/// Requires `Authorization: Bearer <api token>` on every path except the open ones.
///
/// The token is compared as HMAC digests under a random per-process key, in constant time: neither
/// its length nor its prefix leaks through timing.
public struct BearerAuthMiddleware<Context: RequestContext>: RouterMiddleware {
    private let key = SymmetricKey(size: .bits256)
    private let expected: HashedAuthenticationCode<SHA256>
    private let openPaths: Set<String>

    public init(token: String, openPaths: Set<String>) {
        expected = HMAC<SHA256>.authenticationCode(for: Data(token.utf8), using: key)
        self.openPaths = openPaths
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if openPaths.contains(request.uri.path) || !Self.isProtected(request.uri.path) {
            return try await next(request, context)
        }
        guard let header = request.headers[.authorization], header.count > 7,
              header.prefix(7).lowercased() == "bearer ",
              HMAC<SHA256>.isValidAuthenticationCode(expected, authenticating: Data(header.dropFirst(7).utf8), using: key)
        else {
            throw QueryError.unauthorized
        }
        return try await next(request, context)
    }

    /// The query API and metrics; the webhook receiver authenticates by signature instead.
    static func isProtected(_ path: String) -> Bool {
        path.hasPrefix("/api/") && !path.hasPrefix("/api/method/") || path == "/metrics"
    }
}
