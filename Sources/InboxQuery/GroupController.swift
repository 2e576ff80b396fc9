import Hummingbird
import InboxStore

/// `/api/groups`: the WhatsApp groups sessions take part in, with subject, description and members.
public struct GroupController<Context: RequestContext>: Sendable {
    let pool: ReadPool

    public init(pool: ReadPool) { self.pool = pool }

    public func addRoutes(to router: some RouterMethods<Context>) {
        router.get("/api/groups") { request, _ in try await list(request) }
    }

    /// Groups the sessions take part in, with their members.
    func list(_ request: Request) async throws -> Response {
        let page = try PageRequest(request, keyParts: 1)
        let after = page.after == nil ? 0 : try page.int(0)
        var query = SelectQuery("FROM groups g WHERE g.id > ?", after)
        query.and("g.session_id = ?", ifPresent: try request.parameter("session"))
        return try await query.page(pool, ReadModels.group, orderBy: "g.id", limit: page.limit, cursor: ["id"])
    }
}
