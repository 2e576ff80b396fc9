import Foundation
import Hummingbird
import InboxHTTP
import InboxStore

/// `POST /api/admin/replay?status=failed|ignored`: re-applies stored deliveries through the
/// running service's writer. `inboxlite replay` calls it when the service holds the database's
/// lock, so there is never a second writer. Mount it on the authenticated route group.
public struct AdminController<Context: RequestContext>: Sendable {
    let writer: DeliveryWriter

    public init(writer: DeliveryWriter) {
        self.writer = writer
    }

    public func addRoutes(to router: some RouterMethods<Context>) {
        router.post("/api/admin/replay") { request, _ in try await replay(request) }
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
enum AdminError: Error, APIError {
    case badStatus
    case writerUnavailable

    var status: HTTPResponse.Status {
        switch self {
        case .badStatus: return .badRequest
        case .writerUnavailable: return .serviceUnavailable
        }
    }

    var code: String {
        switch self {
        case .badStatus: return "invalid_parameter"
        case .writerUnavailable: return "writer_unavailable"
        }
    }

    var message: String {
        switch self {
        case .badStatus: return "parameter status: must be failed or ignored"
        case .writerUnavailable: return "the writer is stopping or the database refused the write; retry later"
        }
    }

    var headers: HTTPFields {
        self == .writerUnavailable ? [.retryAfter: "1"] : [:]
    }
}
