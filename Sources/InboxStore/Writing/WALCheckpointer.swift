import Foundation

/// Copies the write-ahead log back into the database file on its own thread.
///
/// SQLite's automatic checkpoint runs inside the commit that crosses the threshold, so one unlucky
/// webhook waits for megabytes of copying and an fsync. Here the writer only appends to the WAL;
/// this thread checkpoints every `interval` (PASSIVE: it never blocks the writer or readers), and
/// truncates the WAL when it stops.
public final class WALCheckpointer: @unchecked Sendable {
    private let store: StoreConfiguration
    private let interval: TimeInterval
    private let condition = NSCondition()
    private var stopping = false
    private var stopped = false

    public init(store: StoreConfiguration, interval: TimeInterval = 0.25) {
        self.store = store
        self.interval = interval
    }

    /// Starts the checkpoint thread.
    public func start() throws {
        let connection = UncheckedConnectionBox(try InboxDatabase.openCheckpointer(store))
        let thread = Thread { [self] in loop(connection.connection) }
        thread.start()
    }

    /// Runs a last full checkpoint and stops the thread; returns when it has stopped.
    public func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while !stopped { condition.wait() }
        condition.unlock()
    }

    private func loop(_ connection: SQLiteConnection) {
        while true {
            condition.lock()
            if !stopping { _ = condition.wait(until: Date().addingTimeInterval(interval)) }
            let last = stopping
            condition.unlock()
            _ = try? connection.queryFirst(last ? "PRAGMA wal_checkpoint(TRUNCATE)" : "PRAGMA wal_checkpoint(PASSIVE)")
            if last { break }
        }
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }
}

/// Hands a connection to the one thread that will use it from then on.
struct UncheckedConnectionBox: @unchecked Sendable {
    let connection: SQLiteConnection
    init(_ connection: SQLiteConnection) { self.connection = connection }
}
