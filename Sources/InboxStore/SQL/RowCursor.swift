/// The current row of a running query, read in place by column index: SQLite's statement
/// buffers or a PostgreSQL row's cells, without copying values out first. The query side writes
/// JSON straight from it. Valid only during the callback that hands it out.
public protocol RowCursor {
    func isNull(_ column: Int) -> Bool
    /// A floating-point value (else an integer, text or NULL).
    func isReal(_ column: Int) -> Bool
    /// Integers and booleans (0/1); 0 for NULL.
    func int64(_ column: Int) -> Int64
    func double(_ column: Int) -> Double
    /// The column's text as UTF-8 bytes, valid during `body`.
    func withText<T>(_ column: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> T) rethrows -> T
    func string(_ column: Int) -> String?
}

/// A connection of the query side: read-only, each read bounded in time.
public protocol ReadConnection: SQLDatabase {
    /// Runs `body`; a statement still running after `limit` seconds is stopped and fails with an
    /// error whose `wasInterrupted` is true.
    func withTimeLimit<T>(_ limit: Double, _ body: () throws -> T) throws -> T
}
