import Hummingbird
import InboxHTTP
import InboxStore

/// `/api/contacts`: people and groups, one contact per person per session.
public struct ContactController<Context: AuthorizedRequestContext>: Sendable {
    let pool: ReadPool

    public init(pool: ReadPool) { self.pool = pool }

    public func addRoutes(to router: some RouterMethods<Context>) {
        router.get("/api/contacts") { request, context in try await list(request, scope: context.sessionScope()) }
        router.get("/api/contacts/:whatsappId") { request, context in
            try await show(context.pathParameter("whatsappId"), session: try request.parameter("session"), scope: context.sessionScope())
        }
    }

    /// Contacts in id order; `q` matches the number (prefix, digits only) or the name / JID (substring).
    func list(_ request: Request, scope: SessionScope) async throws -> Response {
        let page = try PageRequest(request, keyParts: 1)
        let after = page.after == nil ? 0 : try page.int(0)
        let session = try request.parameter("session")
        let q = try request.parameter("q", maxLength: 100)
        var query = SelectQuery("FROM contacts WHERE id > ?", after)
        query.and("session_id = ?", ifPresent: session)
        query.scoped("session_id", to: scope)
        if let q {
            let pattern = "%" + Self.escapeLike(q) + "%"
            let digits = q.filter(\.isNumber)
            // A number typed with spaces or a + still finds the stored digits.
            let like = pool.dialect.caseInsensitiveLike
            query.and(
                "(display_name \(like) ? ESCAPE '\\' OR whatsapp_id \(like) ? ESCAPE '\\' OR (? <> '' AND phone_number LIKE ?))",
                pattern, pattern, digits, "%" + digits + "%"
            )
        }
        return try await query.page(pool, ReadModels.contact, orderBy: "id", limit: page.limit, cursor: ["id"])
    }

    /// A contact is one person in one session: `session` picks which; without it, the session
    /// (of those the token may see) where the person was seen first.
    func show(_ whatsappId: String, session: String?, scope: SessionScope) async throws -> Response {
        // Any identifier the contact was seen with finds it (its @lid, BSUID, an old number).
        var query = if let session {
            SelectQuery("FROM contacts WHERE id = \(ReadModels.contactIdOf(session: "?", identifier: "?"))", session, whatsappId)
        } else {
            SelectQuery("FROM contacts WHERE id IN (SELECT contact_id FROM contact_identities WHERE identifier = ?)", whatsappId)
        }
        query.scoped("session_id", to: scope)
        guard let response = try await query.single(pool, ReadModels.contact, orderBy: "id") else {
            throw QueryError.notFound("contact \(whatsappId)")
        }
        return response
    }

    /// User text inside LIKE matches literally: `%` and `_` are not wildcards.
    static func escapeLike(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
            .replacingOccurrences(of: "_", with: "\\_")
    }
}
