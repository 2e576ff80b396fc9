/// The gateway a delivery came from: `provider` on `sessions` and `webhook_deliveries`.
public enum Provider: String, Sendable, CaseIterable, Codable {
    case inboxHub = "inbox-hub"
    case meta
    case waha
    case evolution

    /// The prefix of this gateway's InboxLite session ids (`waha:default`); Inbox Hub ids have none.
    public var sessionPrefix: String {
        self == .inboxHub ? "" : rawValue + ":"
    }

    /// The InboxLite session id of the gateway's own session / instance / phone number id.
    public func sessionId(_ native: String) -> String {
        sessionPrefix + native
    }
}
