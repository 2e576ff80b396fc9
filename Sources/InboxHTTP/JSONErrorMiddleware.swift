import Hummingbird
import Foundation
import Logging

/// Turns every error thrown below it into a JSON error response.
///
/// `APIError`s answer with their own status and message; Hummingbird's `HTTPError`s (unknown
/// route, body over the limit…) keep their status with a generic code; anything else is a bug and
/// answers 500 with no details, which go to the log only.
public struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as any APIError {
            return Self.response(status: error.status, code: error.code, message: error.message, headers: error.headers)
        } catch let error as any HTTPResponseError {
            let (code, message) = Self.describe(error.status)
            return Self.response(status: error.status, code: code, message: message, headers: [:])
        } catch {
            context.logger.error("unexpected error", metadata: ["error": "\(String(reflecting: error))"])
            return Self.response(
                status: .internalServerError, code: "internal_error",
                message: "the server could not handle the request", headers: [:]
            )
        }
    }

    /// A JSON error response; also used by routes that answer errors without throwing.
    public static func response(status: HTTPResponse.Status, code: String, message: String, headers: HTTPFields) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let body = (try? encoder.encode(ErrorBody(error: code, message: message))) ?? Data()
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    private static func describe(_ status: HTTPResponse.Status) -> (String, String) {
        switch status.code {
        case 404: return ("not_found", "no such endpoint")
        case 405: return ("method_not_allowed", "this endpoint does not accept that method")
        case 413: return ("body_too_large", "the request body is over the size limit")
        case 400: return ("bad_request", "the request is malformed")
        default: return ("http_\(status.code)", status.reasonPhrase)
        }
    }
}
