import InboxEvents
import Crypto
import Foundation

/// A verified webhook on its way into the database.
public struct IncomingDelivery: Sendable {
    /// The exact bytes that were signed, less the values of secret fields (`SecretFields`): what is
    /// stored, streamed and served.
    public let body: [UInt8]
    /// Lowercase hex SHA-256 of the body as received: the duplicate key.
    public let bodySHA256: String
    /// The session the delivery belongs to (header or body).
    public let sessionId: String?
    public let receivedAt: Date
    public let envelope: WebhookEnvelope

    public init(body: [UInt8], bodySHA256: String, sessionId: String?, receivedAt: Date, envelope: WebhookEnvelope) {
        self.body = envelope.scrubbedBody ?? body
        self.bodySHA256 = bodySHA256
        self.sessionId = sessionId
        self.receivedAt = receivedAt
        self.envelope = envelope
    }
}

/// A delivery's `status` column.
public enum DeliveryStatus: String, Sendable, CaseIterable {
    case applied, ignored, failed
}

/// What committing one delivery did.
public enum DeliveryResult: Sendable, Equatable {
    /// Newly stored, with the id of its `webhook_deliveries` row and the contacts applying it merged.
    case stored(id: Int64, status: DeliveryStatus, merges: [ContactMerge] = [])
    /// An identical body was accepted before; nothing changed.
    case duplicate
}

/// Two contacts found to be one person (or a contact refiled under a better identifier), as the
/// live stream announces it: a row of `contact_merges`.
public struct ContactMerge: Sendable, Equatable {
    public let sessionId: String
    /// The contact that remains, and what it is filed under now.
    public let contactId: Int64
    public let whatsappId: String
    /// What the merged contact was filed under.
    public let mergedWhatsappId: String
    public let reason: String

    public init(sessionId: String, contactId: Int64, whatsappId: String, mergedWhatsappId: String, reason: String) {
        self.sessionId = sessionId
        self.contactId = contactId
        self.whatsappId = whatsappId
        self.mergedWhatsappId = mergedWhatsappId
        self.reason = reason
    }
}

extension IncomingDelivery {
    /// Lowercase hex SHA-256 of `body`, the duplicate key. Hashes the array's buffer directly:
    /// `SHA256.hash(data:)` walks a `DataProtocol`'s regions generically (~1 % of a webhook's CPU).
    public static func sha256Hex(of body: [UInt8]) -> String {
        var hasher = SHA256()
        body.withUnsafeBytes { hasher.update(bufferPointer: $0) }
        return hasher.finalize().hexString
    }
}
