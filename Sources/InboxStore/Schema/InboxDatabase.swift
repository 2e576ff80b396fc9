import CSQLite
import Foundation

/// How hard a commit tries to survive a power cut.
public enum Durability: String, Sendable, CaseIterable {
    /// `synchronous=NORMAL` in WAL mode: a commit survives a process crash; a power loss or kernel
    /// panic may lose the last few commits (never corrupts).
    case normal
    /// `synchronous=FULL`: every commit is fsynced before it is acknowledged.
    case full
}

/// Where the database lives and how it is opened.
public struct StoreConfiguration: Sendable {
    public var path: String
    public var durability: Durability
    /// How long a connection waits on a lock before giving up with SQLITE_BUSY.
    public var busyTimeoutMilliseconds: Int
    /// How much of the file readers map into memory (SQLite caps it at its build's maximum,
    /// 2 GiB for Debian's); 0 reads with pread only.
    public var readerMemoryMapBytes: Int
    /// Who may read the database's files (default: the owner only).
    public var fileAccess: FileAccess

    public init(path: String, durability: Durability = .normal, busyTimeoutMilliseconds: Int = 5000,
                readerMemoryMapBytes: Int = 2 << 30, fileAccess: FileAccess = .owner) {
        self.path = path
        self.durability = durability
        self.busyTimeoutMilliseconds = busyTimeoutMilliseconds
        self.readerMemoryMapBytes = readerMemoryMapBytes
        self.fileAccess = fileAccess
    }
}

/// The one place that opens connections to the InboxLite database and runs its migrations.
///
/// The writer connection goes to exactly one owner (the delivery writer); everything else gets a
/// read-only connection that SQLite itself stops from writing.
public enum InboxDatabase {
    /// Creates the database folder if needed and applies pending migrations (through `StoreOwner`).
    @discardableResult
    static func migrate(_ configuration: StoreConfiguration, migrations: [Migration]) throws -> [String] {
        let writer = try openWriter(configuration)
        return try Migrator(migrations: migrations).migrate(writer)
    }

    /// Process-wide SQLite settings, applied once before the first connection opens. Each is a
    /// speed setting that SQLite refuses (SQLITE_MISUSE) once it has initialised, so the result
    /// codes are kept for a test to check.
    static let libraryConfiguration: LibraryConfiguration = {
        LibraryConfiguration(
            memoryStatistics: csqlite_disable_memstatus(),
            pageBuffers: csqlite_configure_page_buffers(Int32(pageSize), Int32(pageBuffers)),
            walBuffer: csqlite_register_wal_buffer_vfs()
        )
    }()

    struct LibraryConfiguration {
        let memoryStatistics: Int32
        let pageBuffers: Int32
        let walBuffer: Int32
    }

    /// Page buffers SQLite takes before it mallocs a page (~9 MB, touched at start). This SQLite
    /// is built without lookaside, so each cached page was a ~4.4 KB malloc that glibc serves from
    /// its bins (~9 % of the writer's samples): the writer alone +5 %, the whole service within
    /// the bench's noise. SQLite's page cache treats a nearly used-up pool as memory pressure and
    /// recycles pages instead of allocating more, so the writer's cache stays near this many pages
    /// rather than its 32 MB `cache_size`: peak RSS 82 → 57 MB, no slower fresh or at 5 M messages
    /// (paired runs; 8,192 buffers, the full cache: no faster, 82-87 MB).
    static let pageBuffers = 2048

    /// Whether the writer can open through the WAL-buffering VFS (`CSQLite/wal_buffer.h`): a
    /// few large writes per commit instead of two small ones per page.
    private static var walBufferAvailable: Bool { libraryConfiguration.walBuffer == SQLITE_OK }

    /// What the WAL file is cut back to when it starts over: above the size at which the
    /// checkpointer asks for a rewind (`WALCheckpointer.defaultRestartFrames`), so in normal running it is
    /// never cut (the commit after a cut synced the whole rewritten file, 10–35 ms), yet a log that
    /// grew long behind a slow reader gives the space back.
    static let walSizeLimit = (WALCheckpointer.defaultRestartFrames + 16_384) * pageSize

    /// SQLite's default page size, which every InboxLite database has.
    static let pageSize = 4096

    /// Opens the read-write connection with the pragmas every write relies on.
    ///
    /// Automatic checkpoints are off: `WALCheckpointer` runs them on its own thread, so a commit
    /// never waits for the WAL to be copied back into the database file.
    static func openWriter(_ configuration: StoreConfiguration) throws -> SQLiteConnection {
        _ = libraryConfiguration
        try createFolder(for: configuration.path, access: configuration.fileAccess)
        try configuration.fileAccess.secureDatabaseFile(configuration.path)
        let connection = try SQLiteConnection(
            path: configuration.path, vfs: walBufferAvailable ? CSQLITE_WAL_BUFFER_VFS : nil
        )
        try connection.execute("""
            PRAGMA busy_timeout = \(configuration.busyTimeoutMilliseconds);
            PRAGMA journal_mode = WAL;
            PRAGMA synchronous = \(configuration.durability == .full ? "FULL" : "NORMAL");
            PRAGMA foreign_keys = ON;
            PRAGMA temp_store = MEMORY;
            PRAGMA cache_size = -32768;
            PRAGMA wal_autocheckpoint = 0;
            PRAGMA journal_size_limit = \(walSizeLimit);
            """)
        return connection
    }

    /// Creates the folder a database file at `path` lives in, if missing, with `access`'s mode.
    /// (An existing folder keeps its mode: it may be the operator's own, e.g. a home directory.)
    static func createFolder(for path: String, access: FileAccess) throws {
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        if !FileManager.default.fileExists(atPath: folder) {
            try FileManager.default.createDirectory(
                atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: Int(access.folderMode)]
            )
        }
    }

    /// Opens the connection the checkpointer uses: it only copies WAL frames into the database.
    static func openCheckpointer(_ configuration: StoreConfiguration) throws -> SQLiteConnection {
        _ = libraryConfiguration
        let connection = try SQLiteConnection(path: configuration.path)
        try connection.execute("PRAGMA busy_timeout = \(configuration.busyTimeoutMilliseconds)")
        return connection
    }

    /// Opens a connection that cannot write: read-only file mode plus `query_only`.
    public static func openReader(_ configuration: StoreConfiguration) throws -> SQLiteConnection {
        _ = libraryConfiguration
        let connection = try SQLiteConnection(path: configuration.path, readOnly: true)
        // Pages are read through a shared memory map instead of a pread (syscall + copy) each:
        // on a database larger than the page cache, reads were a quarter of a page's CPU. The
        // mapped pages are the OS page cache, shared by every reader and reclaimable.
        try connection.execute("""
            PRAGMA busy_timeout = \(configuration.busyTimeoutMilliseconds);
            PRAGMA mmap_size = \(configuration.readerMemoryMapBytes);
            """)
        return connection
    }

    /// Writes a consistent copy of the database to `destination` while the service keeps running.
    ///
    /// SQLite's online backup API on a read-only connection copies one snapshot (WAL mode: the
    /// writer is never blocked, it only keeps appending to the log meanwhile). (`VACUUM INTO`
    /// fails on this schema's generated columns with SQLite 3.40.) The copy is written next to the
    /// destination, checked, and renamed into place, so a partial file never appears.
    public static func backup(_ configuration: StoreConfiguration, to destination: String) throws {
        guard !FileManager.default.fileExists(atPath: destination) else {
            throw SQLiteError(code: 1, message: "\(destination) already exists; choose a new file")
        }
        let partial = destination + ".partial"
        try? FileManager.default.removeItem(atPath: partial)
        // The copy holds every message: created with the database's mode before anything is written.
        try configuration.fileAccess.secureFile(partial, create: true)
        let connection = try openReader(configuration)
        do {
            try connection.backup(to: partial)
            let check = try SQLiteConnection(path: partial, readOnly: true).queryFirst("PRAGMA quick_check")?.string(0)
            guard check == "ok" else { throw SQLiteError(code: 11, message: "the copy failed its check: \(check ?? "no answer")") }
            try FileManager.default.moveItem(atPath: partial, toPath: destination)
        } catch {
            try? FileManager.default.removeItem(atPath: partial)
            throw error
        }
    }
}
