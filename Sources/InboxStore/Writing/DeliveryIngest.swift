/// The write path as the receivers see it: verified deliveries go in, each comes back with what
/// storing it did, and every committed batch is reported to the observer the implementation was
/// built with (the live stream and metrics hang off that).
///
/// This is the whole contract between HTTP and storage. `DeliveryWriter` implements it over
/// SQLite; another engine would implement these two members and its own observer call without
/// touching a controller. Implementations must answer only after the delivery is durable, store
/// a body exactly once (an identical body is `.duplicate`), and keep what they queue bounded.
public protocol DeliveryIngest: Sendable {
    /// Stores and applies one verified delivery and returns once it is durable.
    /// Throws `IngestFailure`.
    func submit(_ delivery: IncomingDelivery) async throws -> DeliveryResult
    /// Deliveries accepted but not yet committed (health, metrics).
    var backlog: Int { get }
    /// Which database engine stores them.
    var engine: StoreEngine { get }
    /// Whether the last attempt to write reached the database (`/healthz`).
    var isReachable: Bool { get }
}

/// The database engines InboxLite stores into.
public enum StoreEngine: String, Sendable {
    case sqlite, postgresql
}

/// Why a delivery was not stored: the sender should retry later.
public enum IngestFailure: Error, Equatable, Sendable {
    /// Storage refused the batch (busy, full, read-only) or is stopping.
    case unavailable
    /// The queue is full: storage is behind.
    case busy
}

/// Called after each commit with the batch and what storing each delivery did.
public typealias CommitObserver = @Sendable ([IncomingDelivery], [DeliveryResult]) -> Void
