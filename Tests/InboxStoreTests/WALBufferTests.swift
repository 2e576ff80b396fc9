import CSQLite
import Foundation
@testable import InboxStore
import Testing

/// The writer hands each commit's WAL frames to the kernel in one go (`CSQLite/wal_buffer.h`).
/// Other connections read the WAL file directly, so a frame still held in that buffer after its
/// commit returned would read back as garbage or as missing rows.
@Suite("The writer's buffered WAL writes and SQLite's library settings")
struct WALBufferTests {
    @Test func everyCommitIsInTheFileWhenItReturns() throws {
        let fixture = try StoreFixture()
        let reader = try fixture.reader()
        for index in 1...60 {
            _ = try fixture.writer.commit([try StoreFixture.delivery(StoreFixture.message("b\(index)"))])
            #expect(try reader.queryFirst("SELECT count(*) FROM messages")?.int(0) == index)
        }
        #expect(try reader.queryFirst("PRAGMA integrity_check")?.string(0) == "ok")
    }

    /// 12 MB in one transaction: more than the buffer holds (8 MB) and, with a tiny page cache,
    /// pages spill into the WAL mid-transaction and are read back before the commit.
    @Test func aTransactionLargerThanTheBufferAndTheCache() throws {
        let fixture = try StoreFixture()
        let db = try #require(fixture.writer.db as? SQLiteConnection)
        try db.execute("PRAGMA cache_size = 50; CREATE TABLE bulk (id INTEGER PRIMARY KEY, payload BLOB NOT NULL)")
        try db.transaction {
            for _ in 0..<3000 {
                try db.run("INSERT INTO bulk (payload) VALUES (randomblob(4000))")
            }
            // Read back while the transaction is open: some of these pages were spilled.
            #expect(try db.queryFirst("SELECT count(*), sum(length(payload)) FROM bulk")?.int(1) == 12_000_000)
        }
        let reader = try fixture.reader()
        #expect(try reader.queryFirst("SELECT count(*) FROM bulk")?.int(0) == 3000)
        #expect(try reader.queryFirst("PRAGMA integrity_check")?.string(0) == "ok")
        let wal = fixture.walBytes
        #expect(wal > 12_000_000, "the frames reached the WAL file (\(wal) bytes)")
    }

    /// The speed settings are refused silently (SQLITE_MISUSE) once SQLite has initialised, e.g.
    /// if a call into SQLite ever runs before the first connection opens.
    @Test func librarySettingsTookEffect() throws {
        _ = try StoreFixture()
        let settings = InboxDatabase.libraryConfiguration
        #expect(settings.memoryStatistics == SQLITE_OK)
        #expect(settings.pageBuffers == SQLITE_OK)
        #expect(settings.walBuffer == SQLITE_OK)
    }

    /// `synchronous=FULL` syncs the WAL at every commit: the buffer is written before the sync.
    @Test func fullDurabilityCommitsAreReadable() throws {
        let fixture = try StoreFixture()
        try #require(fixture.writer.db as? SQLiteConnection).execute("PRAGMA synchronous = FULL")
        let reader = try fixture.reader()
        for index in 1...20 {
            _ = try fixture.writer.commit([try StoreFixture.delivery(StoreFixture.message("f\(index)"))])
            #expect(try reader.queryFirst("SELECT count(*) FROM messages")?.int(0) == index)
        }
    }
}
