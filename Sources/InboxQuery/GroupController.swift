import Hummingbird
import InboxHTTP
import InboxStore

/// `/api/groups`: the WhatsApp groups sessions take part in, with subject, description and members.
public struct GroupController<Context: AuthorizedRequestContext>: Sendable {
    let pool: ReadPool

    public init(pool: ReadPool) { self.pool = pool }

    public func addRoutes(to router: some RouterMethods<Context>) {
        router.get("/api/groups") { request, context in try await list(request, scope: context.sessionScope()) }
    }

    /// Groups the sessions take part in, with their members.
    func list(_ request: Request, scope: SessionScope) async throws -> Response {
        let page = try PageRequest(request, keyParts: 1)
        let after = page.after == nil ? 0 : try page.int(0)
        var query = SelectQuery("FROM groups g WHERE g.id > ?", after)
        query.and("g.session_id = ?", ifPresent: try request.parameter("session"))
        query.scoped("g.session_id", to: scope)
        return try await query.page(pool, ReadModels.group, orderBy: "g.id", limit: page.limit, cursor: ["id"])
    }
}
