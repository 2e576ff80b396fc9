import Foundation
import InboxStore

/// The writes forwarding makes, through the process's one writer (`DeliveryWriter` provides
/// them). Reads go through the read pool.
public protocol ForwardingLedger: Sendable {
    func claimForwarding(target: String, url: String, startAfter: Int64, holder: String, lease: TimeInterval) async throws -> ForwardingClaim?
    func saveForwarding(_ changes: ForwardingChanges, target: String, holder: String, lease: TimeInterval) async throws -> Bool
    func releaseForwarding(target: String, holder: String) async throws
    func resendDeadForwarding(target: String?, seq: Int64?) async throws -> Int
}
