import Hummingbird

/// An error that knows its HTTP answer. Every error a route throws either conforms to this or is
/// turned into a bare 500 by `JSONErrorMiddleware`, the one place errors become responses.
public protocol APIError: Error {
    var status: HTTPResponse.Status { get }
    /// A stable snake_case code clients can switch on.
    var code: String { get }
    /// What is wrong, for a human. Never secrets, signatures or internals.
    var message: String { get }
    /// Extra response headers (e.g. `WWW-Authenticate`).
    var headers: HTTPFields { get }
}

extension APIError {
    public var headers: HTTPFields { [:] }
}

/// The JSON every error response carries: `{"success":false,"error":code,"message":message}`.
public struct ErrorBody: Codable, Sendable, Equatable {
    public let success: Bool
    public let error: String
    public let message: String

    public init(error: String, message: String) {
        self.success = false
        self.error = error
        self.message = message
    }
}
