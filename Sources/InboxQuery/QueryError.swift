import Hummingbird
import InboxHTTP

/// Why a query request was not answered with data.
public enum QueryError: Error, APIError, Equatable {
    case unauthorized
    case badParameter(String, String)
    case notFound(String)
    case timeLimit
    case unavailable

    public var status: HTTPResponse.Status {
        switch self {
        case .unauthorized: return .unauthorized
        case .badParameter: return .badRequest
        case .notFound: return .notFound
        case .timeLimit, .unavailable: return .serviceUnavailable
        }
    }

    public var code: String {
        switch self {
        case .unauthorized: return "unauthorized"
        case .badParameter: return "invalid_parameter"
        case .notFound: return "not_found"
        case .timeLimit: return "query_time_limit"
        case .unavailable: return "database_unavailable"
        }
    }

    public var message: String {
        switch self {
        case .unauthorized: return "send Authorization: Bearer <api token>"
        case .badParameter(let name, let problem): return "parameter \(name): \(problem)"
        case .notFound(let what): return "\(what) not found"
        case .timeLimit: return "the query ran over its time limit; narrow it down"
        case .unavailable: return "the database cannot be read right now; retry later"
        }
    }

    public var headers: HTTPFields {
        switch self {
        case .unauthorized: return [.wwwAuthenticate: #"Bearer realm="inboxlite""#]
        case .timeLimit, .unavailable: return [.retryAfter: "1"]
        default: return [:]
        }
    }
}
