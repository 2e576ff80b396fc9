import Foundation
@testable import InboxStore
import Testing

@Suite("The WAL stays bounded under sustained writes")
struct WALCheckpointerTests {
    /// A passive checkpoint never finds the log fully copied while batches keep coming, so without
    /// the writer's rewind the log holds every frame ever written (88 MB here for a 4.6 MB database;
    /// ~1-2 MB with it).
    ///
    /// The checkpoint thread races the writer, as in the service, so how far the log runs ahead of
    /// it depends on the machine: with two CPU hogs and an fsync loop beside it, a starved checkpoint
    /// thread let the log reach 12 MB, and a CI run failed an earlier bound at 5.5 MB. So once `gate`
    /// batches (~150 KB each) went by since the log last started over, the writer here waits for the
    /// thread's request instead of racing on: the bound asserted follows from the gate, not from the
    /// scheduler. Without the request that wait fails; without the writer's own pass
    /// `completeRewinds` stays 0.
    @Test func theLogStartsOverWhileBatchesKeepComing() throws {
        let fixture = try StoreFixture()
        let checkpointer = WALCheckpointer(store: fixture.store, interval: 0.002, restartFrames: 64)
        try checkpointer.start()
        defer { checkpointer.stop() }  // also when a `#require` below throws; stopping twice is harmless
        let gate = 16
        var batchesSinceRestart = 0
        var rewinds = 0
        var completeRewinds = 0
        var restarts = 0
        var largestLog = 0
        var sequence = Self.checkpointSequence(of: fixture.walPath)
        for batch in 0..<600 {
            let deliveries = try (0..<10).map { try StoreFixture.delivery(StoreFixture.message("k\(batch)-\($0)")) }
            _ = try fixture.writer.commit(deliveries)
            let log = fixture.walBytes
            largestLog = max(largestLog, log)
            let next = Self.checkpointSequence(of: fixture.walPath)
            batchesSinceRestart += 1
            if next != sequence {
                restarts += 1
                batchesSinceRestart = 0
            }
            sequence = next

            var requested = checkpointer.takeRewindRequest()
            if !requested && batchesSinceRestart >= gate {
                requested = Self.waitForRewindRequest(checkpointer, seconds: 10)
                try #require(requested, "\(gate) batches (\(log)-byte log file) and the checkpoint thread never asked for a rewind")
            }
            if requested {
                rewinds += 1
                if try fixture.writer.checkpoint() { completeRewinds += 1 }
            }
        }
        checkpointer.stop()

        #expect(rewinds >= 2)
        #expect(completeRewinds >= 1, "the writer's pass never copied the whole log (\(rewinds) rewinds)")
        #expect(restarts >= 2, "the log never started over (\(rewinds) rewinds)")
        #expect(largestLog < 4 << 20, "WAL reached \(largestLog) bytes")
        #expect(fixture.walBytes == 0, "stopping truncates the log")
        let reader = try fixture.reader()
        #expect(try reader.queryFirst("SELECT count(*) FROM messages")?.int(0) == 6000)
        #expect(try reader.queryFirst("PRAGMA integrity_check")?.string(0) == "ok")
    }

    private static func waitForRewindRequest(_ checkpointer: WALCheckpointer, seconds: TimeInterval) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if checkpointer.takeRewindRequest() { return true }
            Thread.sleep(forTimeInterval: 0.001)
        }
        return false
    }

    /// The WAL header's checkpoint sequence number (bytes 12–15, big-endian): SQLite increments it
    /// each time the log starts over from its first frame.
    private static func checkpointSequence(of path: String) -> UInt32? {
        guard let file = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? file.close() }
        guard let header = try? file.read(upToCount: 16), header.count == 16 else { return nil }
        return header[12..<16].reduce(0) { $0 << 8 | UInt32($1) }
    }
}
