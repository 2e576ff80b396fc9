import Foundation
import InboxPostgres
import InboxQuery
import InboxStore
import Logging

/// The engine `buildApplication` runs on, opened and migrated: its writer host and its read
/// pool. The only place that knows which engine is configured; everything above gets these two.
struct Storage: Sendable {
    let writerHost: any WriterHost
    let readPool: ReadPool
    /// Opens one more read connection (for a pool of another part, e.g. forwarding's).
    let openReader: ReadPool.Opener
    /// SQLite's owner (its file lock, and where the running service announces its address).
    let owner: StoreOwner?
    /// Where other nodes' commits are announced (PostgreSQL); nil when this process is the only writer.
    let otherNodesCommits: LiveEventFeed.Listener?

    static func open(_ configuration: AppConfiguration, logger: Logger) async throws -> Storage {
        guard let location = configuration.postgres else {
            let owner = try StoreOwner(configuration.store)
            let applied = try owner.migrate(try Migration.load(from: configuration.migrationsDirectory))
            noteApplied(applied, logger: logger)
            let store = configuration.store
            return Storage(
                writerHost: owner, readPool: ReadPool(store: store, maxPending: configuration.maxQueuedReads),
                openReader: { _ in try InboxDatabase.openReader(store) }, owner: owner, otherNodesCommits: nil
            )
        }
        // Several nodes may start at once: the migrator's advisory lock lets one apply, the others wait.
        let migrations = try Migration.load(from: configuration.migrationsDirectory.appendingPathComponent("postgresql"))
        noteApplied(try await PostgresMigrator(migrations: migrations).migrate(location, logger: logger), logger: logger)
        let openReader: ReadPool.Opener = { timeLimit in
            PostgresBlockingConnection(location: location, role: .reader(timeLimit: timeLimit), logger: logger)
        }
        let pool = ReadPool(engine: .postgresql, maxPending: configuration.maxQueuedReads, open: openReader)
        let notifications = PostgresCommitNotifications(location: location, logger: logger)
        return Storage(
            writerHost: PostgresWriterHost(location: location, logger: logger), readPool: pool, openReader: openReader, owner: nil,
            otherNodesCommits: { onNotification in await notifications.listen(onNotification: onNotification) }
        )
    }

    private static func noteApplied(_ applied: [String], logger: Logger) {
        if !applied.isEmpty {
            logger.notice("applied migrations", metadata: ["migrations": "\(applied.joined(separator: ", "))"])
        }
    }
}
