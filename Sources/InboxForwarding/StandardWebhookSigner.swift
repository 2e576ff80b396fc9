import Crypto
import Foundation

/// Signs a request the Standard Webhooks way (standardwebhooks.com), so a receiver verifies it
/// with any of its libraries unchanged: `webhook-signature: v1,<base64 HMAC-SHA256 of
/// "<webhook-id>.<webhook-timestamp>.<body>">`, keyed with the bytes after `whsec_`.
struct StandardWebhookSigner: Sendable {
    let key: SymmetricKey

    init(key: [UInt8]) {
        self.key = SymmetricKey(data: key)
    }

    /// The three headers of one attempt: the id is the event's (the same on every retry), the
    /// timestamp the attempt's (receivers refuse old ones).
    func headers(id: String, timestamp: Int64, body: [UInt8]) -> [(name: String, value: String)] {
        var mac = HMAC<SHA256>(key: key)
        mac.update(data: Array("\(id).\(timestamp).".utf8))
        mac.update(data: body)
        let signature = Data(mac.finalize()).base64EncodedString()
        return [("webhook-id", id), ("webhook-timestamp", String(timestamp)), ("webhook-signature", "v1,\(signature)")]
    }
}
