import Foundation

/// Copies the write-ahead log back into the database file on its own thread.
///
/// SQLite's automatic checkpoint runs inside the commit that crosses the threshold, so one unlucky
/// webhook waits for megabytes of copying and an fsync. Here the writer only appends to the WAL;
/// this thread checkpoints every `interval` (PASSIVE: it never blocks the writer or readers), and
/// truncates the WAL when it stops.
///
/// Under sustained writes a passive checkpoint never finds the log fully copied at the moment the
/// writer starts a transaction, so SQLite never rewinds the WAL and it grows without bound. Once it
/// holds more than `restartFrames`, a RESTART checkpoint waits for the current batch, copies the
/// few frames the passive pass left, and rewinds the log: a pause of milliseconds, once per
/// `restartFrames` pages written.
public final class WALCheckpointer: @unchecked Sendable {
    private let store: StoreConfiguration
    private let interval: TimeInterval
    private let condition = NSCondition()
    private var stopping = false
    private var stopped = false

    private let restartFrames: Int

    public init(store: StoreConfiguration, interval: TimeInterval = 0.25, restartFrames: Int = 16_384) {
        self.store = store
        self.interval = interval
        self.restartFrames = restartFrames
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
            if last {
                _ = try? connection.queryFirst("PRAGMA wal_checkpoint(TRUNCATE)")
                break
            }
            // Answers (busy, frames in the log, frames checkpointed).
            let passive = try? connection.queryFirst("PRAGMA wal_checkpoint(PASSIVE)")
            if let frames = passive?.int(1), frames > restartFrames {
                _ = try? connection.queryFirst("PRAGMA wal_checkpoint(RESTART)")
            }
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
