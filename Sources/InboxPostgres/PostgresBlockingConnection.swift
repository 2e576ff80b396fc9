import Foundation
import InboxStore
import Logging
import PostgresNIO

/// A PostgreSQL connection with the calls the write and read sides make (`SQLDatabase`,
/// `ReadConnection`), each blocking its thread until the server answers, as SQLite's calls do.
///
/// Blocking is deliberate: the event-application rules and the read models are written once,
/// synchronously, for both engines; the writer is one dedicated thread per node and readers run
/// on the blocking thread pool, so a wait holds no cooperative thread or event loop. A reader is
/// read-only (`default_transaction_read_only`) with the read time limit as its
/// `statement_timeout`. Every write transaction first takes one advisory lock (`writerLockKey`), so the writers of
/// all nodes apply one transaction at a time, as SQLite's single writer does: each rule sees
/// every committed row, and "insert if missing", "an ack before its message" and "only move a
/// status up" hold across nodes without any rule knowing about nodes.
///
/// Round trips are what the writer's time goes to (each statement is a hop to the event loop, the
/// server and back), so: the writer's statements are prepared once per connection
/// (`PostgresPreparedStatements`: the server no longer parses each one; it still plans each for its
/// values), and a rule's `write`s, whose answers nobody reads, are sent without waiting — checked,
/// in order, by the next call that waits.
///
/// A lost connection fails the statement with a transient error (the batch is answered 503 and
/// the gateway retries); the next transaction connects again, so a node recovers by itself when
/// the server comes back. Inside a transaction it never reconnects: statements on a new session
/// would commit one by one.
public final class PostgresBlockingConnection: SQLDatabase, ReadConnection {
    /// What the connection is for.
    public enum Role: Sendable {
        case writer
        /// Read-only; each statement stopped after this many seconds.
        case reader(timeLimit: Double)
    }

    public let dialect = SQLDialect.postgresql
    /// The advisory lock the writers of all nodes take for each transaction ("inbw").
    public static let writerLockKey: Int64 = 0x696E_6277

    private let location: PostgresLocation
    private let logger: Logger
    private let role: Role
    private var connection: PostgresConnection?
    private var connectionCount = 0
    private var inTransaction = false
    /// The last failed attempt to connect: during an outage each batch is refused at once
    /// (503, the gateway retries) instead of waiting for a connect timeout of its own.
    private var lastConnectFailure: (at: ContinuousClock.Instant, error: any Error)?
    /// How long an attempt to connect may take, and how often one is made while the server is down.
    static let connectTimeout = TimeAmount.seconds(3)
    static let reconnectInterval = Duration.seconds(1)
    /// The SQL in PostgreSQL's parameter style, by its SQLite text; bounded like SQLite's
    /// statement cache would be (a reader sees as many texts as filter and scope combinations).
    private var translations: [String: String] = [:]
    static let maxTranslations = 1_000
    /// Writes sent and not yet answered (`write`), oldest first; at most `maxUnsettledWrites`.
    private var unsettledWrites: [(text: String, answer: EventLoopFuture<Answer>)] = []
    static let maxUnsettledWrites = 256
    /// Statements prepared on the current connection.
    private var prepared = PostgresPreparedStatements()

    /// A statement's rows, and the changed-row count when it ran unnamed.
    struct Answer {
        var rows: [PostgresRow]
        var changed: Int?
    }

    public init(location: PostgresLocation, role: Role = .writer, logger: Logger) {
        self.location = location
        self.role = role
        self.logger = logger
    }

    deinit { close() }

    /// Closes the connection now (and waits: postgres-nio requires a connection closed before it
    /// goes); the next call would open another.
    public func close() {
        unsettledWrites.removeAll()
        if let connection {
            let closed: EventLoopFuture<Void> = connection.close()
            try? closed.wait()
        }
        connection = nil
    }

    /// Unnamed, so the server's count of changed rows comes back (a prepared statement's answer
    /// has rows only).
    @discardableResult
    public func run(_ sql: String, arguments: [any SQLBindable]) throws -> Int {
        try execute(sql, arguments, mayPrepare: false).changed ?? 0
    }

    public func query(_ sql: String, arguments: [any SQLBindable]) throws -> [SQLRow] {
        try execute(sql, arguments).rows.map(Self.row)
    }

    public func forEachRow(_ sql: String, arguments: [any SQLBindable], _ body: (any RowCursor) throws -> Void) throws {
        for row in try execute(sql, arguments).rows {
            try body(PostgresRowCursor(row: PostgresRandomAccessRow(row)))
        }
    }

    /// The time limit is the connection's `statement_timeout`, set when it opened.
    public func withTimeLimit<T>(_ limit: Double, _ body: () throws -> T) throws -> T {
        try body()
    }

    public func queryFirst(_ sql: String, arguments: [any SQLBindable]) throws -> SQLRow? {
        try execute(sql, arguments).rows.first.map(Self.row)
    }

    public func insertReturningId(_ sql: String, arguments: [any SQLBindable]) throws -> Int64? {
        try query(sql + " RETURNING id", arguments: arguments).first?[0].int.map(Int64.init)
    }

    public func transaction<T>(_ body: () throws -> T) throws -> T {
        // Sent together with the transaction's first statement: their answers are checked with it.
        try write("BEGIN")
        inTransaction = true
        defer { inTransaction = false }
        do {
            try write("SELECT pg_advisory_xact_lock(?)", Self.writerLockKey)
            let result = try body()
            try run("COMMIT")
            return result
        } catch {
            _ = try? run("ROLLBACK")
            throw error
        }
    }

    // MARK: - Statements

    /// Sends a statement and waits for its answer, and for every written statement before it.
    private func execute(_ sql: String, _ arguments: [any SQLBindable], mayPrepare: Bool = true) throws -> Answer {
        let (text, answer) = try send(sql, arguments, mayPrepare: mayPrepare)
        let result = Result { try answer.wait() }
        // The writes sent before it were answered first (one connection answers in order): the
        // first of them that failed is the cause (later statements only say the transaction aborted).
        try settleWrites()
        do {
            return try result.get()
        } catch {
            throw Self.storeError(error, statement: text)
        }
    }

    public func write(_ sql: String, arguments: [any SQLBindable]) throws {
        let (text, answer) = try send(sql, arguments)
        unsettledWrites.append((text, answer))
        if unsettledWrites.count >= Self.maxUnsettledWrites { try settleWrites() }
    }

    /// Waits for the answers of the writes sent so far; throws the first failure.
    private func settleWrites() throws {
        guard !unsettledWrites.isEmpty else { return }
        let writes = unsettledWrites
        unsettledWrites.removeAll(keepingCapacity: true)
        var firstFailure: (any Error)?
        for (text, answer) in writes {
            do {
                _ = try answer.wait()
            } catch {
                if firstFailure == nil { firstFailure = Self.storeError(error, statement: text) }
            }
        }
        if let firstFailure { throw firstFailure }
    }

    private static func storeError(_ error: any Error, statement: String) -> any Error {
        var wrapped = switch error {
        case let error as PSQLError: PostgresStoreError(error)
        // What a prepared statement's failure is reported as (postgres-nio's older error type).
        case PostgresError.server(let response):
            PostgresStoreError(sqlState: response.fields[.sqlState], message: response.fields[.message] ?? "\(response)")
        default: PostgresStoreError(sqlState: nil, message: "\(error)")
        }
        wrapped.statement = statement
        return wrapped
    }

    /// Hands a statement to the connection; its answer comes later. The writer's are prepared on
    /// first use when `mayPrepare` (see `PostgresPreparedStatements`); a reader's stay unnamed (no
    /// round trips to prepare the many texts a reader sees), as they were.
    private func send(_ sql: String, _ arguments: [any SQLBindable], mayPrepare: Bool = true) throws
        -> (text: String, answer: EventLoopFuture<Answer>)
    {
        let text: String
        if let known = translations[sql] {
            text = known
        } else {
            text = PostgresParameters.translate(sql)
            if translations.count >= Self.maxTranslations { translations.removeAll(keepingCapacity: true) }
            translations[sql] = text
        }
        let connection = try open()
        let values = arguments.map(\.sqlValue)
        if mayPrepare, case .writer = role, case .prepared(let statement, let types)? = try preparedEntry(text, on: connection),
           let binds = PostgresPreparedStatements.binds(values, as: types)
        {
            return (text, statement.execute(binds).map { Answer(rows: $0, changed: nil) })
        }
        var binds = PostgresBindings(capacity: values.count)
        for value in values {
            switch value {
            case .null: binds.appendNull()
            case .integer(let value): binds.append(value)
            case .real(let value): binds.append(value)
            case .text(let value): binds.append(PostgresText.storable(value))
            case .blob(let value): binds.append(ByteBuffer(bytes: value))
            }
        }
        return (text, connection.query(PostgresQuery(unsafeSQL: text, binds: binds), logger: logger).map {
            Answer(rows: Array($0.rows), changed: $0.metadata.rows)
        })
    }

    /// The prepared statement for `text`, preparing it the first time it is seen. A text the
    /// server cannot prepare alone (a parameter whose type only a bound value tells) runs unnamed;
    /// inside a transaction the attempt is wrapped in a savepoint, so its failure costs nothing.
    private func preparedEntry(_ text: String, on connection: PostgresConnection) throws -> PostgresPreparedStatements.Entry? {
        if let known = prepared.entry(for: text) { return known }
        guard prepared.shouldTry(text) else { return nil }
        if inTransaction { try settleWrites() }
        let prepare = { () throws -> PostgresPreparedStatements.Entry in
            let statement = try connection.prepare(query: text).wait()
            let types = try connection.query(
                "SELECT array_to_string(parameter_types::text[], ',') FROM pg_prepared_statements WHERE statement = \(text) LIMIT 1",
                logger: self.logger
            ).wait().rows.first.flatMap { try? $0.decode(String.self) }
            guard let types, let parameters = PostgresPreparedStatements.parameterTypes(types) else { return .unnamed }
            return .prepared(statement, parameters)
        }
        let entry: PostgresPreparedStatements.Entry
        do {
            entry = try inTransaction ? savepoint("prepare_statement", prepare) : prepare()
        } catch {
            entry = .unnamed  // a lost connection fails the statement itself next
        }
        prepared.remember(entry, for: text)
        return entry
    }

    private func open() throws -> PostgresConnection {
        if let connection, !connection.isClosed { return connection }
        connection = nil
        guard !inTransaction else {
            throw PostgresStoreError(sqlState: nil, message: "the connection to the database was lost during a transaction")
        }
        if let failure = lastConnectFailure, ContinuousClock.now - failure.at < Self.reconnectInterval { throw failure.error }
        connectionCount += 1
        do {
            let opened = try location.connectBlocking(id: connectionCount, timeout: Self.connectTimeout, logger: logger)
            let settings = switch role {
            case .reader(let limit): ["SET default_transaction_read_only = on", "SET statement_timeout = \(Int(limit * 1000))"]
            // A prepared statement is still planned for its values each time: a plan made once, from
            // the statistics of that moment, stays wrong while a new database fills (a lookup by
            // either key planned on an empty table cost 970 µs a call instead of 45).
            case .writer: ["SET plan_cache_mode = force_custom_plan"]
            }
            do {
                for setting in settings {
                    _ = try opened.query(PostgresQuery(unsafeSQL: setting), logger: logger).wait()
                }
            } catch {
                let closed: EventLoopFuture<Void> = opened.close()
                try? closed.wait()
                throw PostgresStoreError(sqlState: nil, message: "cannot set up the connection: \(error)")
            }
            if lastConnectFailure != nil || connectionCount > 1 {
                logger.notice("connected to the database again", metadata: ["database": "\(location)"])
            }
            lastConnectFailure = nil
            prepared.removeAll()
            connection = opened
            return opened
        } catch {
            if lastConnectFailure == nil { logger.error("the database is unreachable", metadata: ["error": "\(error)"]) }
            lastConnectFailure = (ContinuousClock.now, error)
            throw error
        }
    }

    static func row(_ row: PostgresRow) -> SQLRow {
        SQLRow(values: row.map(value))
    }

    /// A cell as one of the five values the write side reads (PostgreSQL's booleans as 0/1,
    /// integers of any width as integers, anything textual as text).
    static func value(_ cell: PostgresCell) -> SQLValue {
        guard var bytes = cell.bytes else { return .null }
        // Every statement asks for its results in binary, but a prepared statement's cells say
        // text (postgres-nio keeps the format of the description it prepared with).
        var cell = cell
        cell.format = .binary
        switch cell.dataType {
        case .int2, .int4, .int8:
            return (try? cell.decode(Int64.self)).map(SQLValue.integer) ?? .null
        case .float4, .float8:
            return (try? cell.decode(Double.self)).map(SQLValue.real) ?? .null
        case .numeric:
            // sum() of integers: an integer when it is whole, as SQLite's sum() answers.
            guard let decimal = try? cell.decode(Decimal.self) else { return .null }
            let number = NSDecimalNumber(decimal: decimal)
            if decimal == decimal.rounded(), abs(number.doubleValue) < 9e18 { return .integer(number.int64Value) }
            return .real(number.doubleValue)
        case .bool:
            return (try? cell.decode(Bool.self)).map { .integer($0 ? 1 : 0) } ?? .null
        case .bytea:
            return .blob(bytes.readBytes(length: bytes.readableBytes) ?? [])
        default:
            return (try? cell.decode(String.self)).map(SQLValue.text) ?? .null
        }
    }
}

/// A PostgreSQL failure as the write side sees it: its SQLSTATE, the server's message (never a
/// bound value), and whether the same work may succeed later.
public struct PostgresStoreError: DatabaseError, CustomStringConvertible {
    /// The SQLSTATE; nil when the server never answered (connection lost, closed, timed out).
    public let sqlState: String?
    public let message: String
    /// The statement that failed (its text only, never its values), for the log.
    public var statement: String?

    init(sqlState: String?, message: String) {
        self.sqlState = sqlState
        self.message = message
    }

    init(_ error: PSQLError) {
        if let server = error.serverInfo {
            sqlState = server[.sqlState]
            message = server[.message] ?? "\(error.code)"
        } else {
            sqlState = nil
            message = error.underlying.map { "\($0)" } ?? "\(error.code)"
        }
    }

    /// Connection trouble (08), a lost serialization race or deadlock (40), the server short of
    /// resources (53), shutting down (57) or failing (58): the batch may commit later. Anything
    /// else (a constraint, a type) is the data's or the code's fault.
    /// 57014: cancelled by `statement_timeout`.
    public var wasInterrupted: Bool { sqlState == "57014" }

    public var isTransient: Bool {
        guard let sqlState else { return true }
        return !wasInterrupted && (["08", "40", "53", "57", "58"].contains(String(sqlState.prefix(2))) || sqlState == "55P03")
    }

    public var description: String {
        "PostgreSQL error \(sqlState ?? "(no answer)"): \(message)" + (statement.map { " in: \($0.prefix(300))" } ?? "")
    }
}

private extension Decimal {
    func rounded() -> Decimal {
        var value = self
        var result = Decimal()
        NSDecimalRound(&result, &value, 0, .plain)
        return result
    }
}
