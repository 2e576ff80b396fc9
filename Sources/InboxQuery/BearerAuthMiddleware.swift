import Crypto
import Foundation
import Hummingbird
import InboxHTTP

/// Requires `Authorization: Bearer <api token>`. Attach it to the route group of the protected
/// routes: it never looks at the path, so no spelling of a path can get around it.
///
/// The token is compared as HMAC digests under a random per-process key, in constant time: neither
/// its length nor its prefix leaks through timing.
public struct BearerAuthMiddleware<Context: RequestContext>: RouterMiddleware {
    private let key = SymmetricKey(size: .bits256)
    private let expected: HashedAuthenticationCode<SHA256>

    public init(token: String) {
        expected = HMAC<SHA256>.authenticationCode(for: Data(token.utf8), using: key)
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers.value(.authorization), header.count > 7,
              header.prefix(7).lowercased() == "bearer ",
              HMAC<SHA256>.isValidAuthenticationCode(expected, authenticating: Data(header.dropFirst(7).utf8), using: key)
        else {
            throw QueryError.unauthorized
        }
        return try await next(request, context)
    }
}
