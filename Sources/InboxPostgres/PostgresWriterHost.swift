import InboxStore
import Logging

/// This node's writer on PostgreSQL: one connection of its own (`PostgresBlockingConnection`),
/// outside any pool, because every call on it blocks the writer thread. Several nodes each have
/// one; they take turns through the database's advisory lock, so nothing here needs to know how
/// many nodes run.
public struct PostgresWriterHost: WriterHost {
    public let location: PostgresLocation
    public let logger: Logger

    public init(location: PostgresLocation, logger: Logger) {
        self.location = location
        self.logger = logger
    }

    public var engine: StoreEngine { .postgresql }

    public func makeWriter() throws -> InboxWriter {
        try InboxWriter(database: PostgresBlockingConnection(location: location, logger: logger))
    }

    public func makeCheckpointer() -> WALCheckpointer? { nil }

    public func release() {}
}
