import Foundation
@testable import InboxStore
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("The writer lock")
struct StoreOwnerTests {
    /// After a crash, the restarted service holds the lock before it records itself; until then the
    /// file still names the dead process and its old address, which must not be handed out.
    @Test func aDeadHoldersRecordIsNotBelieved() throws {
        let fixture = try StoreFixture()
        let database = fixture.owner.configuration.path
        #expect(StoreOwner.runningService(databasePath: database)?.pid == Int(getpid()), "the live holder is named")
        fixture.owner.announce(url: "http://127.0.0.1:1")
        #expect(StoreOwner.runningService(databasePath: database)?.url == "http://127.0.0.1:1")

        // The record of a process that no longer exists, while the lock is still held.
        let gone = Process()
        gone.executableURL = URL(fileURLWithPath: "/bin/true")
        try gone.run()
        gone.waitUntilExit()
        let stale = try JSONEncoder().encode(RunningService(pid: Int(gone.processIdentifier), url: "http://127.0.0.1:9"))
        try stale.write(to: URL(fileURLWithPath: StoreOwner.lockPath(for: database)))
        let seen = StoreOwner.runningService(databasePath: database)
        #expect(seen != nil, "the lock is held: someone is writing")
        #expect(seen?.url == nil, "but the dead holder's address is not handed out: \(String(describing: seen))")
    }
}
