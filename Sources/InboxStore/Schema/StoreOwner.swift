import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The one process allowed to write a database: it holds an exclusive `flock` on `<db>.lock`
/// for as long as it lives, and only through it can migrations run, a writer or a checkpointer
/// be made. A second `serve` or `replay` on the same file fails at start instead of racing the
/// first one's writer.
///
/// The lock file also tells other commands how to reach the owner: a running service records its
/// address in it, so `inboxlite replay` can ask the service to replay instead of writing itself.
public final class StoreOwner: @unchecked Sendable {
    public let configuration: StoreConfiguration
    private let descriptor: Int32
    private let released = NSLock()
    private var isReleased = false

    /// Where the lock of the database at `databasePath` lives.
    public static func lockPath(for databasePath: String) -> String { databasePath + ".lock" }

    /// Takes the database's lock, creating its folder if needed; fails at once if another process
    /// holds it.
    public init(_ configuration: StoreConfiguration) throws(StoreOwnerError) {
        self.configuration = configuration
        let lockPath = Self.lockPath(for: configuration.path)
        try? InboxDatabase.createFolder(for: configuration.path, access: configuration.fileAccess)  // a failure shows as cannotLock below
        let descriptor = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, configuration.fileAccess.fileMode)
        guard descriptor >= 0 else { throw .cannotLock(lockPath, String(cString: strerror(errno))) }
        fchmod(descriptor, configuration.fileAccess.fileMode)  // a lock file left by an older version
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let holder = Self.readHolder(lockPath)
            close(descriptor)
            throw .held(configuration.path, holder)
        }
        self.descriptor = descriptor
        record(RunningService(pid: Int(getpid()), url: nil))
    }

    deinit {
        release()
    }

    /// Gives up ownership: call once the writer has drained and stopped. Closing the descriptor
    /// releases the lock (also at exit, however the process ends).
    public func release() {
        released.lock()
        defer { released.unlock() }
        guard !isReleased else { return }
        isReleased = true
        _ = ftruncate(descriptor, 0)
        // Unlock before closing: a child process forked in this instant (a test or a command
        // spawning a program) shares the descriptor until it execs, and would keep the lock.
        _ = flock(descriptor, LOCK_UN)
        close(descriptor)
    }

    /// Applies pending migrations; returns the names of those it applied.
    @discardableResult
    public func migrate(_ migrations: [Migration]) throws -> [String] {
        try InboxDatabase.migrate(configuration, migrations: migrations)
    }

    /// The write connection's owner. Make one, and use it from one thread.
    public func makeWriter() throws -> InboxWriter {
        try InboxWriter(configuration)
    }

    /// The background WAL checkpointer for this database.
    public func makeCheckpointer() -> WALCheckpointer? {
        WALCheckpointer(store: configuration)
    }

    /// Runs SQL on a write connection of its own (maintenance and benchmark set-up only; the
    /// service writes through its `InboxWriter`).
    public func execute(_ sql: String) throws {
        try InboxDatabase.openWriter(configuration).execute(sql)
    }

    /// Records the service's address in the lock file, for `inboxlite replay` to find.
    public func announce(url: String) {
        record(RunningService(pid: Int(getpid()), url: url))
    }

    private func record(_ service: RunningService) {
        released.lock()
        defer { released.unlock() }
        guard !isReleased, let data = try? JSONEncoder().encode(service) else { return }
        _ = ftruncate(descriptor, 0)
        _ = data.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
    }

    /// What the process holding the lock wrote about itself; nil if nobody holds it.
    public static func runningService(databasePath: String) -> RunningService? {
        let lockPath = Self.lockPath(for: databasePath)
        let descriptor = open(lockPath, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        // Free if a shared lock can be taken (then dropped at close): nobody is writing.
        if flock(descriptor, LOCK_SH | LOCK_NB) == 0 { return nil }
        // Between taking the lock and recording itself, a new holder leaves the previous holder's
        // record in the file (after a crash: a dead pid and its old address). Only a live pid's
        // record is believed, so nobody is sent to an address that no longer answers.
        guard let holder = readHolder(lockPath), let pid = holder.pid, kill(pid_t(pid), 0) == 0 || errno == EPERM else {
            return RunningService(pid: nil, url: nil)
        }
        return holder
    }

    private static func readHolder(_ lockPath: String) -> RunningService? {
        guard let data = FileManager.default.contents(atPath: lockPath), !data.isEmpty else { return nil }
        return try? JSONDecoder().decode(RunningService.self, from: data)
    }
}

/// What the lock holder says about itself.
public struct RunningService: Codable, Sendable, Equatable {
    public var pid: Int?
    /// The service's base URL (`http://127.0.0.1:8080`), once it is listening.
    public var url: String?
}

/// Why the database cannot be owned.
public enum StoreOwnerError: Error, CustomStringConvertible, Equatable {
    case held(String, RunningService?)
    case cannotLock(String, String)

    public var description: String {
        switch self {
        case .held(let path, let holder):
            var who = "another InboxLite process"
            if let pid = holder?.pid { who += " (pid \(pid)" + (holder?.url.map { ", serving \($0)" } ?? "") + ")" }
            return "\(who) is already writing to \(path); stop it first (only one writer per database)"
        case .cannotLock(let path, let reason):
            return "cannot open the lock file \(path): \(reason)"
        }
    }
}
