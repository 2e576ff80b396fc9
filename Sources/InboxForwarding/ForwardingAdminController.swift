import Foundation
import Hummingbird
import InboxHTTP
import InboxQuery

/// `POST /api/admin/forwarding/retry`: dead letters back into the retry queue (all, one
/// target's with `target`, one event's with `seq`, or both); answers how many. Mount it on the
/// route group for admin tokens of every session.
public struct ForwardingAdminController<Context: AuthorizedRequestContext>: Sendable {
    let ledger: any ForwardingLedger
    let targets: [String]
    let wake: @Sendable () -> Void

    public init(ledger: any ForwardingLedger, targets: [String], wake: @escaping @Sendable () -> Void) {
        self.ledger = ledger
        self.targets = targets
        self.wake = wake
    }

    public func addRoutes(to router: some RouterMethods<Context>) {
        router.post("/api/admin/forwarding/retry") { request, _ in try await retry(request) }
    }

    func retry(_ request: Request) async throws -> Response {
        let target = try request.parameter("target", maxLength: 64)
        if let target, !targets.contains(target) { throw QueryError.notFound("forwarding target \(target)") }
        var seq: Int64?
        if let text = try request.queryValue("seq") {
            guard let value = Int64(text), value > 0 else { throw QueryError.badParameter("seq", "must be a positive whole number") }
            seq = value
        }
        let resent: Int
        do {
            resent = try await ledger.resendDeadForwarding(target: target, seq: seq)
        } catch {
            throw QueryError.unavailable
        }
        wake()
        return .json(bytes: Array(#"{"data":{"resent":\#(resent)}}"#.utf8))
    }
}
