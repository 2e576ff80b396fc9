/// WhatsApp delivery receipt codes, as `message.ack` sends them.
public enum AckCode: Int, Sendable, CaseIterable {
    case error = -1
    case pending = 0
    case server = 1
    case delivered = 2
    case read = 3
    case played = 4

    /// The message status this receipt sets.
    public var status: MessageStatus {
        switch self {
        case .error: return .error
        case .pending: return .pending
        case .server: return .server
        case .delivered: return .delivered
        case .read: return .read
        case .played: return .played
        }
    }
}

/// A message's `status` column.
///
/// Statuses are totally ordered and a message only ever moves up, so the final status is the
/// maximum of everything received: the same whatever order receipts arrive in, and repeats are
/// harmless. `error` ranks above `server` and below `delivered`: a failure counts only before the
/// message was delivered, and a later proof of delivery overrides it.
public enum MessageStatus: String, Sendable, CaseIterable {
    case pending, received, sent, server, error, delivered, read, played

    public var rank: Int {
        switch self {
        case .pending: return 0
        case .received, .sent: return 1
        case .server: return 2
        case .error: return 3
        case .delivered: return 4
        case .read: return 5
        case .played: return 6
        }
    }
}
