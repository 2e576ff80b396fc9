import Foundation
@testable import InboxStore
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The database holds every message: other users of the machine must not read it.
@Suite("File modes: the database is the service user's alone unless the operator says otherwise")
struct FileAccessTests {
    static func mode(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions]) as? Int ?? -1) & 0o777
    }

    /// Opens a store at a new nested folder, applies the migrations, writes once, backs up; returns
    /// the modes of the folder, the database, its -wal and -shm, the lock and the backup.
    static func modes(access: FileAccess, prepare: ((String) throws -> Void)? = nil) throws -> [String: Int] {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("inboxlite-modes-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let database = root.appendingPathComponent("data/inbox.sqlite").path
        try prepare?(database)
        let owner = try StoreOwner(StoreConfiguration(path: database, fileAccess: access))
        defer { owner.release() }
        try owner.migrate(try Migration.load(from: MigrationTests.shipped))
        let writer = try owner.makeWriter()
        _ = try writer.commit([try StoreFixture.delivery(StoreFixture.message("M1"))])
        let backup = root.appendingPathComponent("copy.sqlite").path
        try InboxDatabase.backup(owner.configuration, to: backup)
        return [
            "folder": mode(root.appendingPathComponent("data").path), "db": mode(database), "wal": mode(database + "-wal"),
            "shm": mode(database + "-shm"), "lock": mode(StoreOwner.lockPath(for: database)), "backup": mode(backup),
        ]
    }

    @Test func byDefaultOnlyTheOwnerCanReadAnything() throws {
        let previous = umask(0o022)  // the usual umask, which made the database 0644 before
        defer { umask(previous) }
        #expect(try Self.modes(access: .owner) == ["folder": 0o700, "db": 0o600, "wal": 0o600, "shm": 0o600, "lock": 0o600, "backup": 0o600])
    }

    @Test func groupAccessIsTheOperatorsChoice() throws {
        let previous = umask(0o022)
        defer { umask(previous) }
        #expect(try Self.modes(access: .group) == ["folder": 0o750, "db": 0o640, "wal": 0o640, "shm": 0o640, "lock": 0o640, "backup": 0o640])
    }

    /// An upgrade tightens what an older version left readable by everyone.
    @Test func filesLeftWorldReadableByAnOlderVersionAreTightened() throws {
        let modes = try Self.modes(access: .owner) { database in
            let folder = URL(fileURLWithPath: database).deletingLastPathComponent().path
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            for path in [database, database + ".lock"] {
                FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o644])
            }
        }
        #expect(modes["db"] == 0o600 && modes["lock"] == 0o600 && modes["wal"] == 0o600)
        #expect(modes["folder"] == 0o755, "a folder that already existed keeps the mode it was given")
    }
}
