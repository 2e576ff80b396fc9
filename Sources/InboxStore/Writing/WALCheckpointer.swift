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
/// holds more than `restartFrames`, this thread asks the writer (`takeRewindRequest`) to run one
/// passive checkpoint itself between two batches: with no append racing it, that pass copies only
/// the little this thread has not, completes, and the next transaction starts the WAL over. (A
/// RESTART checkpoint from this thread would block the writer while it sleeps in the busy handler:
/// p99 went from 20 ms to 300–800 ms when tried.)
///
/// What made those rewinds slow, and how each is kept off the writer (timed per batch under the
/// ingest benchmark): an fsync costs about 0.6 ms per dirty megabyte on this kind of disk, and
/// - a passive pass that does not reach the end of the log leaves its copies unsynced, so the
///   writer's completing pass used to fsync everything copied since the last rewind (6–23 ms):
///   this thread now syncs the database file after every pass, in small steps;
/// - a WAL longer than `journal_size_limit` is truncated when it starts over, and the first commit
///   after that synced the whole rewritten file (10–35 ms): the limit sits above `restartFrames`;
/// - each rewind still costs the writer 5–15 ms, so the log runs to ~256 MiB before one: a rewind
///   every ~18,000 deliveries instead of every ~4,500, too rare to reach the 99th percentile.
public final class WALCheckpointer: @unchecked Sendable {
    private let store: StoreConfiguration
    private let interval: TimeInterval
    private let condition = NSCondition()
    private var stopping = false
    private var stopped = false
    private var rewindRequested = false

    private let restartFrames: Int

    /// Frames (4 KiB pages) in the log before the writer is asked to rewind it: ~256 MiB.
    static let defaultRestartFrames = 65_536

    /// Made by `StoreOwner`: its connection writes (checkpoints) to the database.
    init(store: StoreConfiguration, interval: TimeInterval = 0.05, restartFrames: Int = WALCheckpointer.defaultRestartFrames) {
        self.store = store
        self.interval = interval
        self.restartFrames = restartFrames
    }

    /// Starts the checkpoint thread.
    public func start() throws {
        let connection = UncheckedConnectionBox(try InboxDatabase.openCheckpointer(store))
        let thread = Thread { [self] in
            nameCurrentThread("inbox-checkpoint")
            loop(connection.connection)
        }
        thread.start()
    }

    /// True once per request: the WAL is long and the writer should checkpoint between batches.
    public func takeRewindRequest() -> Bool {
        condition.lock()
        defer { condition.unlock() }
        let requested = rewindRequested
        rewindRequested = false
        return requested
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
        var previous: PassiveCheckpoint?
        while true {
            condition.lock()
            if !stopping { _ = condition.wait(until: Date().addingTimeInterval(interval)) }
            let last = stopping
            condition.unlock()
            if last {
                _ = try? connection.queryFirst("PRAGMA wal_checkpoint(TRUNCATE)")
                break
            }
            previous = pass(connection, after: previous)
            if let frames = previous?.log, frames > restartFrames {
                // Two quick passes shrink what is left to what was appended meanwhile: the
                // writer's own pass then copies and syncs only that.
                previous = pass(connection, after: previous)
                previous = pass(connection, after: previous)
                condition.lock()
                rewindRequested = true
                condition.unlock()
            }
        }
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }
}

/// What `PRAGMA wal_checkpoint(PASSIVE)` answered, read in one place for the checkpoint thread
/// and the writer's rewind.
struct PassiveCheckpoint: Equatable {
    /// Another connection held the checkpoint: nothing was copied (the counts are then -1).
    let busy: Bool
    /// Frames in the log.
    let log: Int
    /// Frames copied into the database file.
    let checkpointed: Int

    /// The whole log is in the database file: the next transaction starts it over.
    var copiedWholeLog: Bool { !busy && log == checkpointed }

    static func run(on connection: SQLiteConnection) throws -> PassiveCheckpoint {
        let answer = try connection.queryFirst("PRAGMA wal_checkpoint(PASSIVE)")
        return PassiveCheckpoint(busy: answer?.int(0) != 0, log: answer?.int(1) ?? 0, checkpointed: answer?.int(2) ?? 0)
    }
}

extension WALCheckpointer {
    /// One passive checkpoint, then the database file synced: SQLite syncs it only when a pass
    /// reaches the end of the log, which under load is the writer's rewind pass. An idle database
    /// (the same answer as the previous pass) is not synced again.
    private func pass(_ connection: SQLiteConnection, after previous: PassiveCheckpoint?) -> PassiveCheckpoint? {
        guard let result = try? PassiveCheckpoint.run(on: connection) else { return nil }
        if result != previous { try? connection.syncDatabaseFile() }
        return result
    }
}

/// Hands a connection to the one thread that will use it from then on.
struct UncheckedConnectionBox: @unchecked Sendable {
    let connection: SQLiteConnection
    init(_ connection: SQLiteConnection) { self.connection = connection }
}
