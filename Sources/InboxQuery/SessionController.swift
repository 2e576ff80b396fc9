import InboxEvents
import Foundation
import Hummingbird
import InboxHTTP
import InboxStore

/// `/api/sessions`: gateway sessions, their state and QR code.
public struct SessionController<Context: AuthorizedRequestContext>: Sendable {
    let pool: ReadPool

    public init(pool: ReadPool) { self.pool = pool }

    public func addRoutes(to router: some RouterMethods<Context>) {
        router.get("/api/sessions") { request, context in try await list(request, scope: context.sessionScope()) }
        router.get("/api/sessions/:sessionId") { _, context in try await show(visible(context)) }
        router.get("/api/sessions/:sessionId/qr.png") { _, context in try await qrImage(visible(context)) }
        router.get("/api/sessions/:sessionId/events") { request, context in try await events(request, session: visible(context)) }
    }

    /// The session in the path, if the token may see it; another session's is not found, exactly
    /// as a missing one.
    func visible(_ context: Context) throws -> String {
        let session = try context.pathParameter("sessionId")
        guard try context.sessionScope().allows(session) else { throw QueryError.notFound("session \(session)") }
        return session
    }

    /// The session's events, newest first, each with a readable summary: status changes, QR
    /// codes, and account events that change no row (templates, quality, presence…).
    func events(_ request: Request, session: String) async throws -> Response {
        let page = try PageRequest(request, keyParts: 1)
        guard try await pool.read({ db in try db.queryFirst("SELECT 1 FROM sessions WHERE session_id = ?", session) }) != nil else {
            throw QueryError.notFound("session \(session)")
        }
        var query = SelectQuery("FROM session_events WHERE session_id = ?", session)
        if page.after != nil { query.and("id < ?", try page.int(0)) }
        return try await query.page(pool, ReadModels.sessionEvent, orderBy: "id DESC", limit: page.limit, cursor: ["id"])
    }

    func list(_ request: Request, scope: SessionScope) async throws -> Response {
        let page = try PageRequest(request, keyParts: 1)
        let after = page.after == nil ? 0 : try page.int(0)
        var query = SelectQuery("FROM sessions s WHERE s.id > ?", after)
        query.scoped("s.session_id", to: scope)
        query.and("s.provider = ?", ifPresent: try request.providerParameter())
        return try await query.page(pool, ReadModels.session, orderBy: "s.id", limit: page.limit, cursor: ["id"])
    }

    func show(_ sessionId: String) async throws -> Response {
        guard let response = try await SelectQuery("FROM sessions s WHERE s.session_id = ?", sessionId).single(pool, ReadModels.session) else {
            throw QueryError.notFound("session \(sessionId)")
        }
        return response
    }

    /// The current QR code as a PNG an operator can scan from a browser; 404 when none is current.
    func qrImage(_ sessionId: String) async throws -> Response {
        let row = try await pool.read { db in
            try db.queryFirst("SELECT qr_code, qr_expires_at FROM sessions WHERE session_id = ?", sessionId)
        }
        guard let row else { throw QueryError.notFound("session \(sessionId)") }
        guard let dataURL = row.string(0) else { throw QueryError.notFound("a current QR code for \(sessionId)") }
        if let expires = row.string(1).flatMap(Timestamps.parse), expires < Date() {
            throw QueryError.notFound("a current QR code for \(sessionId) (it expired)")
        }
        guard let comma = dataURL.firstIndex(of: ","), dataURL[..<comma].hasSuffix(";base64"),
              let bytes = Data(base64Encoded: String(dataURL[dataURL.index(after: comma)...]), options: .ignoreUnknownCharacters),
              bytes.starts(with: [0x89, 0x50, 0x4E, 0x47])
        else {
            throw QueryError.notFound("a PNG QR code for \(sessionId)")
        }
        return Response(
            status: .ok,
            headers: [.contentType: "image/png", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(bytes: bytes))
        )
    }
}
