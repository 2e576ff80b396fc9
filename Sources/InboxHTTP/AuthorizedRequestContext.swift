import Hummingbird
import InboxStore

/// A request context that carries what the request's bearer token allows. The authentication
/// middleware of a route group sets `access`; handlers read it through `requireAccess()`.
public protocol AuthorizedRequestContext: RequestContext {
    var access: TokenAccess? { get set }
}

extension AuthorizedRequestContext {
    /// The token's access. A route mounted where no token was checked fails closed (401), so a
    /// wiring mistake can never show everything.
    public func requireAccess() throws(AuthorizationError) -> TokenAccess {
        guard let access else { throw .unauthorized }
        return access
    }

    /// The sessions the token may see.
    public func sessionScope() throws(AuthorizationError) -> SessionScope {
        try requireAccess().scope
    }
}

/// Why a request's token does not allow it.
public enum AuthorizationError: Error, APIError, Equatable {
    /// Missing, unknown or revoked: the same answer for each.
    case unauthorized
    /// The token's expiry has passed.
    case tokenExpired
    /// A read token on an admin route.
    case adminOnly
    /// A token limited to some sessions where only a token for every session may go (`/metrics`).
    case everySessionOnly

    public var status: HTTPResponse.Status {
        switch self {
        case .unauthorized, .tokenExpired: return .unauthorized
        case .adminOnly, .everySessionOnly: return .forbidden
        }
    }

    public var code: String {
        switch self {
        case .unauthorized: return "unauthorized"
        case .tokenExpired: return "token_expired"
        case .adminOnly, .everySessionOnly: return "forbidden"
        }
    }

    public var message: String {
        switch self {
        case .unauthorized: return "send Authorization: Bearer <api token>"
        case .tokenExpired: return "this API token has expired; ask for a new one"
        case .adminOnly: return "this API token may only read; this needs an admin token"
        case .everySessionOnly: return "this API token is limited to some sessions; this needs an admin token for every session"
        }
    }

    public var headers: HTTPFields {
        switch self {
        case .unauthorized: return [.wwwAuthenticate: #"Bearer realm="inboxlite""#]
        case .tokenExpired: return [.wwwAuthenticate: #"Bearer realm="inboxlite", error="invalid_token""#]
        case .adminOnly, .everySessionOnly: return [:]
        }
    }
}
