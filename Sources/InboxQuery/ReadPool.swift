import Foundation
import InboxStore
import NIOConcurrencyHelpers
import NIOPosix

/// Read-only connections for the query side, of either engine, used on NIO's blocking thread pool
/// so a read never blocks Swift's cooperative threads or the event loops.
///
/// Connections cannot write (SQLite: opened read-only with `query_only`; PostgreSQL:
/// `default_transaction_read_only`). Each read has a time limit (SQLite's progress handler,
/// PostgreSQL's `statement_timeout`): a runaway query is interrupted, not left to starve others.
/// At most `maxPending` reads run or wait at once; the next is refused (503 + Retry-After) rather
/// than queued without bound behind a slow disk or server.
public final class ReadPool: @unchecked Sendable {
    /// Opens one more read connection (when every open one is busy).
    public typealias Opener = @Sendable (_ timeLimit: TimeInterval) throws -> any ReadConnection

    public let engine: StoreEngine
    public var dialect: SQLDialect { .of(engine) }
    private let open: Opener
    private let timeLimit: TimeInterval
    private let maxPending: Int
    private let pending = NIOLockedValueBox(0)
    private let running = NIOLockedValueBox(0)
    private let idle = NIOLockedValueBox<[any ReadConnection]>([])
    private let threadPool: NIOThreadPool

    public init(engine: StoreEngine, timeLimit: TimeInterval = 2, maxPending: Int = 64, threadPool: NIOThreadPool = .singleton,
                open: @escaping Opener) {
        self.engine = engine
        self.open = open
        self.timeLimit = timeLimit
        self.maxPending = maxPending
        self.threadPool = threadPool
    }

    /// SQLite's readers of `store`.
    public convenience init(store: StoreConfiguration, timeLimit: TimeInterval = 2, maxPending: Int = 64, threadPool: NIOThreadPool = .singleton) {
        self.init(engine: .sqlite, timeLimit: timeLimit, maxPending: maxPending, threadPool: threadPool) { _ in
            try InboxDatabase.openReader(store)
        }
    }

    /// Runs `body` with a read-only connection; interrupted after the time limit.
    public func read<T: Sendable>(_ body: @escaping @Sendable (any ReadConnection) throws -> T) async throws -> T {
        let admitted = pending.withLockedValue { count -> Bool in
            guard count < maxPending else { return false }
            count += 1
            return true
        }
        guard admitted else { throw QueryError.overloaded }
        defer { pending.withLockedValue { $0 -= 1 } }
        return try await threadPool.runIfActive { [self] in
            running.withLockedValue { $0 += 1 }
            defer { running.withLockedValue { $0 -= 1 } }
            let connection = try checkout()
            defer { checkin(connection) }
            do {
                return try connection.withTimeLimit(timeLimit) { try body(connection) }
            } catch let error as any DatabaseError where error.wasInterrupted {
                throw QueryError.timeLimit
            } catch let error as any DatabaseError where error.isTransient {
                throw QueryError.unavailable
            }
        }
    }

    /// Reads running on a connection now, and reads admitted but waiting for a thread (metrics).
    public var usage: (inUse: Int, waiting: Int) {
        let inUse = running.withLockedValue { $0 }
        return (inUse, max(0, pending.withLockedValue { $0 } - inUse))
    }

    private func checkout() throws -> any ReadConnection {
        if let connection = idle.withLockedValue({ $0.popLast() }) { return connection }
        do {
            return try open(timeLimit)
        } catch {
            throw QueryError.unavailable
        }
    }

    private func checkin(_ connection: any ReadConnection) {
        idle.withLockedValue { $0.append(connection) }
    }
}
