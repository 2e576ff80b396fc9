import Hummingbird

/// Answers 405 with an `Allow` header, instead of the router's 404, when the path is an endpoint
/// and only the method is wrong (a `TRACE /api/sessions`, a `DELETE /webhooks/meta`). The routes
/// and their methods come from the OpenAPI document, the contract the service is tested against.
public struct MethodNotAllowedMiddleware<Context: RequestContext>: RouterMiddleware {
    /// A documented path (`/api/sessions/{sessionId}`) and the methods it accepts.
    public struct Route: Sendable {
        let segments: [Substring?]  // nil: a `{parameter}`, matching any one segment
        let allow: [String]

        public init(template: String, methods: [String]) {
            segments = template.split(separator: "/").map { $0.hasPrefix("{") && $0.hasSuffix("}") ? nil : $0 }
            allow = methods.map { $0.uppercased() }
        }

        func matches(_ path: Substring) -> Bool {
            let parts = path.split(separator: "/")
            guard parts.count == segments.count else { return false }
            return zip(parts, segments).allSatisfy { part, segment in segment.map { $0 == part } ?? true }
        }
    }

    struct MethodNotAllowed: APIError {
        let allow: [String]
        var status: HTTPResponse.Status { .methodNotAllowed }
        var code: String { "method_not_allowed" }
        var message: String { "this endpoint accepts \(allow.joined(separator: ", ")) only" }
        var headers: HTTPFields { [.allow: allow.joined(separator: ", ")] }
    }

    let routes: [Route]

    public init(routes: [Route]) { self.routes = routes }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            let path = request.uri.path.prefix { $0 != "?" }
            if let route = routes.first(where: { $0.matches(path) }), !route.allow.contains(request.method.rawValue) {
                throw MethodNotAllowed(allow: route.allow)
            }
            throw error
        }
    }
}
