import Hummingbird
import InboxHTTP

/// Why a query request was not answered with data.
public enum QueryError: Error, APIError, Equatable {
    case badParameter(String, String)
    case notFound(String)
    case timeLimit
    case unavailable
    /// Too many reads are already waiting for a connection.
    case overloaded
    /// The live stream is at its concurrent-client cap.
    case tooManyStreams(Int)

    public var status: HTTPResponse.Status {
        switch self {
        case .badParameter: return .badRequest
        case .notFound: return .notFound
        case .timeLimit, .unavailable, .overloaded, .tooManyStreams: return .serviceUnavailable
        }
    }

    public var code: String {
        switch self {
        case .badParameter: return "invalid_parameter"
        case .notFound: return "not_found"
        case .timeLimit: return "query_time_limit"
        case .unavailable: return "database_unavailable"
        case .overloaded: return "too_many_requests_queued"
        case .tooManyStreams: return "too_many_streams"
        }
    }

    public var message: String {
        switch self {
        case .badParameter(let name, let problem): return "parameter \(name): \(problem)"
        case .notFound(let what): return "\(what) not found"
        case .timeLimit: return "the query ran over its time limit; narrow it down"
        case .unavailable: return "the database cannot be read right now; retry later"
        case .overloaded: return "too many queries are waiting; retry later"
        case .tooManyStreams(let limit): return "\(limit) event streams are open, the most this service allows; retry later"
        }
    }

    public var headers: HTTPFields {
        switch self {
        case .timeLimit, .unavailable, .overloaded: return [.retryAfter: "1"]
        case .tooManyStreams: return [.retryAfter: "5"]
        default: return [:]
        }
    }
}
