import Foundation
import InboxStore
import NIOConcurrencyHelpers
import NIOPosix

/// Read-only connections for the query side, used on NIO's blocking thread pool so SQLite never
/// blocks Swift's cooperative threads or the event loops.
///
/// Each connection is opened read-only with `query_only`, so nothing here can write. Each read has a
/// time limit (SQLite progress handler): a runaway query is interrupted, not left to starve others.
/// At most `maxPending` reads run or wait at once; the next is refused (503 + Retry-After) rather
/// than queued without bound behind a slow disk.
public final class ReadPool: @unchecked Sendable {
    private let store: StoreConfiguration
    private let timeLimit: TimeInterval
    private let maxPending: Int
    private let pending = NIOLockedValueBox(0)
    private let running = NIOLockedValueBox(0)
    private let idle = NIOLockedValueBox<[SQLiteConnection]>([])
    private let threadPool: NIOThreadPool

    public init(store: StoreConfiguration, timeLimit: TimeInterval = 2, maxPending: Int = 64, threadPool: NIOThreadPool = .singleton) {
        self.store = store
        self.timeLimit = timeLimit
        self.maxPending = maxPending
        self.threadPool = threadPool
    }

    /// Runs `body` with a read-only connection; interrupted after the time limit.
    public func read<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
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
            let deadline = Date().addingTimeInterval(timeLimit)
            connection.setInterrupt { Date() > deadline }
            defer { connection.setInterrupt(when: nil) }
            do {
                return try body(connection)
            } catch let error as SQLiteError where error.primaryCode == 9 /* SQLITE_INTERRUPT */ {
                throw QueryError.timeLimit
            } catch let error as SQLiteError where error.isTransient {
                throw QueryError.unavailable
            }
        }
    }

    /// Reads running on a connection now, and reads admitted but waiting for a thread (metrics).
    public var usage: (inUse: Int, waiting: Int) {
        let inUse = running.withLockedValue { $0 }
        return (inUse, max(0, pending.withLockedValue { $0 } - inUse))
    }

    private func checkout() throws -> SQLiteConnection {
        if let connection = idle.withLockedValue({ $0.popLast() }) { return connection }
        do {
            return try InboxDatabase.openReader(store)
        } catch {
            throw QueryError.unavailable
        }
    }

    private func checkin(_ connection: SQLiteConnection) {
        idle.withLockedValue { $0.append(connection) }
    }
}
