import Foundation
import Hummingbird
import InboxEvents
import InboxHTTP
import InboxStore

/// Admin routes, through the store's administration (its one writer, so there is never a second
/// writer; the CLI calls them when the service holds the database). Mount them on the admin route
/// group. They do not know the engine.
/// - `POST /api/admin/replay?status=failed|ignored`: re-applies stored deliveries.
/// - `GET /api/admin/tokens`, `POST /api/admin/tokens`, `DELETE /api/admin/tokens/{id or name}`:
///   lists, creates (the token is in the answer, once) and revokes API tokens.
///
/// An admin token limited to some sessions replays only those sessions' deliveries, and sees,
/// makes and revokes only tokens limited to (some of) its sessions.
public struct AdminController<Context: AuthorizedRequestContext>: Sendable {
    let store: any StoreAdministration

    public init(store: any StoreAdministration) {
        self.store = store
    }

    public func addRoutes(to router: some RouterMethods<Context>) {
        router.post("/api/admin/replay") { request, context in try await replay(request, scope: context.sessionScope()) }
        router.get("/api/admin/tokens") { _, context in try await listTokens(scope: context.sessionScope()) }
        router.post("/api/admin/tokens") { request, context in try await createToken(request, creator: context.sessionScope()) }
        router.delete("/api/admin/tokens/:token") { _, context in
            guard let raw = context.parameters.get("token"), let token = raw.removingPercentEncoding, !token.isEmpty else {
                throw AdminError.badToken("a token id or name is required")
            }
            return try await revokeToken(token, scope: context.sessionScope())
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
            let stored: APIToken
            enum CodingKeys: String, CodingKey { case token }
            /// The stored token's members, plus `token`.
            func encode(to encoder: any Encoder) throws {
                try stored.encode(to: encoder)
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(token, forKey: .token)
            }
        }
    }

    func listTokens(scope: SessionScope) async throws -> Response {
        try .json(TokenList(data: try await onWriter { try await store.listTokens(within: scope) }))
    }

    /// Makes a token; one limited to some sessions makes tokens limited to (some of) the same
    /// sessions, its own when the body names none.
    func createToken(_ request: Request, creator: SessionScope) async throws -> Response {
        let usage = "send {\"name\": …, \"role\": \"read\" or \"admin\", \"sessions\": [session ids], \"expires_days\": 1…3650}"
        // Room for the most sessions a token may have, each of the longest id written as escapes.
        let body = try await request.body.collect(upTo: 1 << 20)
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
        var sessions: [String]?
        if let value = document.value["sessions"] {
            guard case .array(let items) = value else { throw AdminError.badToken("sessions must be an array of session ids") }
            sessions = try items.map { item in
                guard case .string(let session) = item else { throw AdminError.badToken("sessions must be an array of session ids") }
                return session
            }
            guard sessions?.isEmpty == false else {
                throw AdminError.badToken("sessions must name at least one session; leave it out for the same sessions as this token")
            }
        }
        let scope: SessionScope
        do {
            scope = sessions == nil ? creator : try SessionScope.limited(to: sessions)
        } catch {
            throw AdminError.badToken(error.description)
        }
        // The name and the scope are checked where the token is made (`createToken`).
        let (wantedRole, expires) = (role, days.map { APITokens.expiry(days: $0) })
        let (token, secret) = try await onWriter {
            try await store.createToken(name: name, role: wantedRole, scope: scope, expiresAt: expires, within: creator)
        }
        return try .json(NewToken(data: .init(token: secret, stored: token)), status: .created)
    }

    func revokeToken(_ idOrName: String, scope: SessionScope) async throws -> Response {
        try .json(OneToken(data: try await onWriter { try await store.revokeToken(idOrName, within: scope) }))
    }

    /// Runs token work through the store, mapping its errors to answers.
    private func onWriter<T: Sendable>(_ work: () async throws -> T) async throws -> T {
        do {
            return try await work()
        } catch let error as TokenError {
            switch error {
            case .nameTaken: throw AdminError.conflict(error.description)
            case .notFound: throw AdminError.tokenNotFound(error.description)
            case .badName, .badSessions: throw AdminError.badToken(error.description)
            case .beyondScope: throw AdminError.beyondScope(error.description)
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

    func replay(_ request: Request, scope: SessionScope) async throws -> Response {
        guard request.uri.queryParameters.getAll("status").count == 1, let text = request.uri.queryParameters.get("status"),
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
                step = try await store.replayChunk(status: status, after: from, chunk: 200, within: scope)
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
    case beyondScope(String)

    var status: HTTPResponse.Status {
        switch self {
        case .badStatus, .badToken: return .badRequest
        case .writerUnavailable: return .serviceUnavailable
        case .conflict: return .conflict
        case .tokenNotFound: return .notFound
        case .beyondScope: return .forbidden
        }
    }

    var code: String {
        switch self {
        case .badStatus: return "invalid_parameter"
        case .writerUnavailable: return "writer_unavailable"
        case .badToken: return "invalid_body"
        case .conflict: return "conflict"
        case .tokenNotFound: return "not_found"
        case .beyondScope: return "forbidden"
        }
    }

    var message: String {
        switch self {
        case .badStatus: return "parameter status: must be failed or ignored"
        case .writerUnavailable: return "the writer is stopping or the database refused the write; retry later"
        case .badToken(let problem), .conflict(let problem), .tokenNotFound(let problem), .beyondScope(let problem): return problem
        }
    }

    var headers: HTTPFields {
        self == .writerUnavailable ? [.retryAfter: "1"] : [:]
    }
}
