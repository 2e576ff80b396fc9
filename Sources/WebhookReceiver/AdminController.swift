import Foundation
import Hummingbird
import InboxEvents
import InboxHTTP
import InboxStore

/// Admin routes, through the running service's writer (so there is never a second writer; the CLI
/// calls them when the service holds the database's lock). Mount them on the admin route group.
/// - `POST /api/admin/replay?status=failed|ignored`: re-applies stored deliveries.
/// - `GET /api/admin/tokens`, `POST /api/admin/tokens`, `DELETE /api/admin/tokens/{id or name}`:
///   lists, creates (the token is in the answer, once) and revokes API tokens.
public struct AdminController<Context: RequestContext>: Sendable {
    let writer: DeliveryWriter

    public init(writer: DeliveryWriter) {
        self.writer = writer
    }

    public func addRoutes(to router: some RouterMethods<Context>) {
        router.post("/api/admin/replay") { request, _ in try await replay(request) }
        router.get("/api/admin/tokens") { _, _ in try await listTokens() }
        router.post("/api/admin/tokens") { request, _ in try await createToken(request) }
        router.delete("/api/admin/tokens/:token") { _, context in
            guard let raw = context.parameters.get("token"), let token = raw.removingPercentEncoding, !token.isEmpty else {
                throw AdminError.badToken("a token id or name is required")
            }
            return try await revokeToken(token)
        }
    }

    struct TokenList: Encodable, Sendable {
        let data: [APIToken]
    }

    struct OneToken: Encodable, Sendable {
        let data: APIToken
    }

    /// A new token with the token itself: the only time it is shown.
    struct NewToken: Encodable, Sendable {
        let data: Body
        struct Body: Encodable, Sendable {
            let token: String
            let id: Int64, name: String, tokenPrefix: String, role: TokenRole, createdAt: String, expiresAt: String?
            enum CodingKeys: String, CodingKey {
                case token, id, name, role, tokenPrefix = "token_prefix", createdAt = "created_at", expiresAt = "expires_at"
            }
        }
    }

    func listTokens() async throws -> Response {
        try .json(TokenList(data: try await onWriter { try $0.listTokens() }))
    }

    func createToken(_ request: Request) async throws -> Response {
        let usage = "send {\"name\": …, \"role\": \"read\" or \"admin\", \"expires_days\": 1…3650}"
        let body = try await request.body.collect(upTo: 16 << 10)
        // The service's own strict parser (a lone surrogate escape reads as U+FFFD, as everywhere else).
        guard let document = try? JSONParser.parse(Array(buffer: body)), case .object = document.value,
              case .string(let name)? = document.value["name"]
        else { throw AdminError.badToken(usage) }
        var role = TokenRole.read
        if let value = document.value["role"] {
            guard case .string(let text) = value, let parsed = TokenRole(rawValue: text) else { throw AdminError.badToken("role must be read or admin") }
            role = parsed
        }
        var days: Int?
        if let value = document.value["expires_days"] {
            let number: Int64? = switch value {
            case .integer(let whole): whole
            case .double(let real) where real == real.rounded() && abs(real) < 1e15: Int64(real)
            default: nil
            }
            guard let number, APITokens.expiryDays.contains(Int(clamping: number)) else {
                throw AdminError.badToken("expires_days must be a whole number from 1 to 3650")
            }
            days = Int(number)
        }
        // The name is checked where the token is made (`createToken`).
        let (wantedRole, expires) = (role, days.map { APITokens.expiry(days: $0) })
        let (token, secret) = try await onWriter { try $0.createToken(name: name, role: wantedRole, expiresAt: expires) }
        return try .json(NewToken(data: .init(token: secret, id: token.id, name: token.name, tokenPrefix: token.tokenPrefix,
                                              role: token.role, createdAt: token.createdAt, expiresAt: token.expiresAt)),
                         status: .created)
    }

    func revokeToken(_ idOrName: String) async throws -> Response {
        try .json(OneToken(data: try await onWriter { try $0.revokeToken(idOrName) }))
    }

    /// Runs token work on the writer, mapping its errors to answers.
    private func onWriter<T: Sendable>(_ work: @escaping @Sendable (InboxWriter) throws -> T) async throws -> T {
        do {
            return try await writer.perform(work)
        } catch let error as TokenError {
            switch error {
            case .nameTaken: throw AdminError.conflict(error.description)
            case .notFound: throw AdminError.tokenNotFound(error.description)
            case .badName: throw AdminError.badToken(error.description)
            }
        } catch {
            throw AdminError.writerUnavailable
        }
    }

    struct Summary: Encodable, Sendable {
        let success = true
        let data: Body
        struct Body: Encodable, Sendable {
            let status: String
            let replayed: Int
            let applied: Int
            let ignored: Int
            let failed: Int
        }
    }

    func replay(_ request: Request) async throws -> Response {
        guard let text = request.uri.queryParameters.get("status"),
              let status = DeliveryStatus(rawValue: text), status != .applied
        else {
            throw AdminError.badStatus
        }
        // One chunk per writer turn: webhooks keep flowing between chunks.
        var total = ReplaySummary()
        var after: Int64 = 0
        while true {
            let from = after
            let step: (summary: ReplaySummary, lastId: Int64)?
            do {
                step = try await writer.perform { try $0.replayChunk(status: status, after: from, chunk: 200) }
            } catch {
                throw AdminError.writerUnavailable
            }
            guard let step else { break }
            total.add(step.summary)
            after = step.lastId
        }
        return try .json(Summary(data: .init(
            status: status.rawValue, replayed: total.total, applied: total.applied, ignored: total.ignored, failed: total.failed
        )))
    }
}

/// Why an admin request was refused.
enum AdminError: Error, APIError, Equatable {
    case badStatus
    case writerUnavailable
    case badToken(String)
    case conflict(String)
    case tokenNotFound(String)

    var status: HTTPResponse.Status {
        switch self {
        case .badStatus, .badToken: return .badRequest
        case .writerUnavailable: return .serviceUnavailable
        case .conflict: return .conflict
        case .tokenNotFound: return .notFound
        }
    }

    var code: String {
        switch self {
        case .badStatus: return "invalid_parameter"
        case .writerUnavailable: return "writer_unavailable"
        case .badToken: return "invalid_body"
        case .conflict: return "conflict"
        case .tokenNotFound: return "not_found"
        }
    }

    var message: String {
        switch self {
        case .badStatus: return "parameter status: must be failed or ignored"
        case .writerUnavailable: return "the writer is stopping or the database refused the write; retry later"
        case .badToken(let problem), .conflict(let problem), .tokenNotFound(let problem): return problem
        }
    }

    var headers: HTTPFields {
        self == .writerUnavailable ? [.retryAfter: "1"] : [:]
    }
}
