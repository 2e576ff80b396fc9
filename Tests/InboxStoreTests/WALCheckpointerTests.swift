import Foundation
@testable import InboxStore
import Testing

@Suite("The WAL stays bounded under sustained writes")
struct WALCheckpointerTests {
    /// A passive checkpoint never finds the log fully copied while batches keep coming, so without
    /// the writer's rewind the log holds every frame ever written (88 MB here for a 4.6 MB database;
    /// ~1-2 MB with it).
    @Test func theLogStartsOverWhileBatchesKeepComing() throws {
        let fixture = try StoreFixture()
        let checkpointer = WALCheckpointer(store: fixture.store, interval: 0.002, restartFrames: 64)
        try checkpointer.start()
        var rewinds = 0
        var largestLog = 0
        for batch in 0..<600 {
            let deliveries = try (0..<10).map { try StoreFixture.delivery(StoreFixture.message("k\(batch)-\($0)")) }
            _ = try fixture.writer.commit(deliveries)
            if checkpointer.takeRewindRequest() {
                try fixture.writer.checkpoint()
                rewinds += 1
            }
            largestLog = max(largestLog, Self.size(of: fixture.store.path + "-wal"))
        }
        checkpointer.stop()

        let database = Self.size(of: fixture.store.path)
        #expect(rewinds >= 2)
        #expect(largestLog < database, "WAL reached \(largestLog) bytes for a \(database)-byte database")
        #expect(Self.size(of: fixture.store.path + "-wal") == 0, "stopping truncates the log")
        let reader = try fixture.reader()
        #expect(try reader.queryFirst("SELECT count(*) FROM messages")?.int(0) == 6000)
        #expect(try reader.queryFirst("PRAGMA integrity_check")?.string(0) == "ok")
    }

    private static func size(of path: String) -> Int {
        (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
    }
}
