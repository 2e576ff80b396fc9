/// What the writer service needs from an engine: its one writer, what runs beside it, and a
/// word when it has stopped. `StoreOwner` is SQLite's (the file lock makes its writer the only
/// one); `PostgresWriterHost` is PostgreSQL's (each node has one, and they take turns through
/// the database).
public protocol WriterHost: Sendable {
    var engine: StoreEngine { get }
    /// Opens the writer; called once, on the thread that will use it.
    func makeWriter() throws -> InboxWriter
    /// SQLite's background WAL checkpointer, started with the writer and stopped after it; nil
    /// for an engine that needs none.
    func makeCheckpointer() -> WALCheckpointer?
    /// The writer has drained and stopped.
    func release()
}

extension StoreOwner: WriterHost {
    public var engine: StoreEngine { .sqlite }
}
