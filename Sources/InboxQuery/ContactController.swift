import Hummingbird
import InboxStore

/// `/api/contacts`: people and groups, one contact per person per session.
public struct ContactController<Context: RequestContext>: Sendable {
    let pool: ReadPool

    public init(pool: ReadPool) { self.pool = pool }

    public func addRoutes(to router: some RouterMethods<Context>) {
        router.get("/api/contacts") { request, _ in try await list(request) }
        router.get("/api/contacts/:whatsappId") { request, context in
            try await show(context.pathParameter("whatsappId"), session: try request.parameter("session"))
        }
    }

    /// Contacts in id order; `q` matches the number (prefix, digits only) or the name / JID (substring).
    func list(_ request: Request) async throws -> Response {
        let page = try PageRequest(request, keyParts: 1)
        let after = page.after == nil ? 0 : try page.int(0)
        let session = try request.parameter("session")
        let q = try request.parameter("q", maxLength: 100)
        var query = SelectQuery("FROM contacts WHERE id > ?", after)
        query.and("session_id = ?", ifPresent: session)
        if let q {
            let pattern = "%" + Self.escapeLike(q) + "%"
            let digits = q.filter(\.isNumber)
            // A number typed with spaces or a + still finds the stored digits.
            query.and(
                "(display_name LIKE ? ESCAPE '\\' OR whatsapp_id LIKE ? ESCAPE '\\' OR (? <> '' AND phone_number LIKE ?))",
                pattern, pattern, digits, "%" + digits + "%"
            )
        }
        return try await query.page(pool, ReadModels.contact, orderBy: "id", limit: page.limit, cursor: ["id"])
    }

    /// A contact is one person in one session: `session` picks which; without it, the session
    /// where the person was seen first.
    func show(_ whatsappId: String, session: String?) async throws -> Response {
        // Any identifier the contact was seen with finds it (its @lid, BSUID, an old number).
        let found = if let session {
            try await pool.single(ReadModels.contact, "FROM contacts WHERE id = \(ReadModels.contactIdOf(session: "?", identifier: "?"))",
                                  session, whatsappId)
        } else {
            try await pool.single(
                ReadModels.contact,
                "FROM contacts WHERE id = (SELECT contact_id FROM contact_identities WHERE identifier = ? ORDER BY contact_id LIMIT 1)",
                whatsappId
            )
        }
        guard let response = found else {
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
