import Hummingbird

/// Answers a request that asked `Connection: close` with `Connection: close`.
///
/// The server closes such a connection once it has answered. Without the header in the answer, a
/// client that pools connections (a reverse proxy, Python's `requests.Session`) takes the
/// connection back into its pool and sends its next request on it, just as it closes: that request
/// goes unanswered. Told, the client opens a new connection instead. Mount it outermost, so error
/// answers carry it too.
public struct ConnectionCloseMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        if Self.asksToClose(request.headers) { response.headers[.connection] = "close" }
        return response
    }

    /// Whether any `Connection` header lists the `close` option (names are case-insensitive).
    static func asksToClose(_ headers: HTTPFields) -> Bool {
        headers[values: .connection].contains { value in
            value.split(separator: ",").contains { $0.trimmingCharacters(in: .whitespaces).lowercased() == "close" }
        }
    }
}
