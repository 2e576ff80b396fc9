import InboxEvents
import Foundation
import Hummingbird
import InboxStore

/// `GET /webhooks/meta`: Meta's subscribe handshake, sent when the callback URL is saved in the App
/// Dashboard. `hub.mode=subscribe` with `hub.verify_token` equal to the configured token (constant
/// time) answers 200 `text/plain` with exactly `hub.challenge`; anything else 403. It carries no
/// signature, so it is answered apart from the POST route.
public struct MetaSubscriptionController<Context: RequestContext>: Sendable {
    /// nil when Meta is off (no app secret): 404 `provider_disabled`.
    let enabled: Bool
    let verifyToken: String?

    public init(enabled: Bool, verifyToken: String?) {
        self.enabled = enabled
        self.verifyToken = verifyToken
    }

    public func addRoutes(to router: some RouterMethods<Context>) {
        router.get("/webhooks/meta") { request, _ in try handshake(request) }
    }

    func handshake(_ request: Request) throws -> Response {
        guard enabled else { throw WebhookError.providerDisabled(Provider.meta.rawValue) }
        let query = request.uri.queryParameters
        guard let verifyToken, query.get("hub.mode") == "subscribe",
              let offered = query.get("hub.verify_token"),
              ConstantTime.equal(Array(offered.utf8), Array(verifyToken.utf8)),
              let challenge = query.get("hub.challenge")
        else {
            throw WebhookError.verificationFailed
        }
        return Response(
            status: .ok, headers: [.contentType: "text/plain; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: challenge))
        )
    }
}
