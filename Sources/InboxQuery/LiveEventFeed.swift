import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle

/// With several nodes on one database: the live stream's events of every node, read from the
/// delivery log — the log is the truth, wake-ups only say when to look.
///
/// Wake-ups come from this node's own commits, from the database's notifications of other nodes'
/// commits (PostgreSQL's LISTEN/NOTIFY), and once a second in any case, so a lost notification
/// (a dropped listening connection) delays an event by a second at most, never loses it. Wake-ups
/// that arrive while the log is being read collapse into one more read.
///
/// The follower keeps the id of the last delivery it published and reads what comes after it.
/// That can never skip an event that commits late: every node's writer allocates delivery ids
/// inside its transaction, under the lock the writers take turns with, and releases that lock only
/// once the commit is visible — ids become visible in id order. With no stream open it only
/// moves its position to the head of the log, reading no bodies.
public final class LiveEventFeed: Service, Sendable {
    private let pool: ReadPool
    private let source: any EventLogSource
    private let broadcaster: EventBroadcaster
    private let position: NIOLockedValueBox<Int64>
    private let wakeups: AsyncStream<Void>
    private let wakeupContinuation: AsyncStream<Void>.Continuation
    private let fallbackInterval: Duration
    private let logger: Logger
    /// Runs until cancelled, calling its argument on every notification of a commit on another node.
    public typealias Listener = @Sendable (_ onNotification: @escaping @Sendable () -> Void) async -> Void
    private let listener: Listener?

    /// Starts after `head` (the log's newest id when the service starts: a new stream starts live).
    public init(pool: ReadPool, source: any EventLogSource = DeliveryLog(), broadcaster: EventBroadcaster, head: Int64, listener: Listener?,
                fallbackInterval: Duration = .seconds(1), logger: Logger) {
        self.pool = pool
        self.source = source
        self.broadcaster = broadcaster
        position = NIOLockedValueBox(head)
        (wakeups, wakeupContinuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        self.listener = listener
        self.fallbackInterval = fallbackInterval
        self.logger = logger
    }

    /// Something committed: look at the log soon (never blocks; wake-ups collapse).
    public func wake() {
        wakeupContinuation.yield()
    }

    public func run() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            if let listener {
                group.addTask { [self] in await listener { self.wake() } }
            }
            group.addTask { [self] in
                while !Task.isCancelled {
                    try await Task.sleep(for: fallbackInterval)
                    wake()
                }
            }
            group.addTask { [self] in
                var failing = false
                for await _ in wakeups.cancelOnGracefulShutdown() {
                    do {
                        try await catchUp()
                        if failing { logger.notice("the live stream reads its log again") }
                        failing = false
                    } catch {
                        if !failing { logger.warning("the live stream cannot read its log", metadata: ["error": "\(error)"]) }
                        failing = true
                    }
                }
            }
            // The reading task ends on graceful shutdown (or cancellation); then stop the others.
            _ = try await group.next()
            group.cancelAll()
        }
    }

    /// Publishes everything committed after the position, in id order, in pages.
    private func catchUp() async throws {
        var after = position.withLockedValue { $0 }
        if broadcaster.subscriberCount == 0 {
            let head = try await pool.read { [source] db in try source.head(in: db) }
            position.withLockedValue { $0 = max($0, head) }
            return
        }
        while true {
            let page = try await pool.read { [after, source] db in try source.events(in: db, after: after, scope: .everySession, limit: 500) }
            guard let last = page.last?.id else { return }
            broadcaster.publish(page)
            after = last
            position.withLockedValue { $0 = max($0, last) }
            if page.count < 500 { return }
        }
    }
}
