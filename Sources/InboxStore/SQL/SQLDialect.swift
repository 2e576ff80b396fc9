/// Where the engines' SQL differs, named once.
public struct SQLDialect: Sendable {
    public let engine: StoreEngine
    /// The larger / smaller of two values (SQLite's scalar `max`/`min`; PostgreSQL's
    /// `GREATEST`/`LEAST`). Callers keep both arguments non-NULL: the engines differ on NULL.
    public let greatest: String
    public let least: String
    /// Whether the SQLite full-text table must be fed (PostgreSQL indexes `messages.body` itself).
    public let feedsFullTextTable: Bool
    /// Whether writers of other processes (nodes) commit to the same database between two of
    /// ours, so nothing remembered about rows may outlive a transaction.
    public let hasOtherWriters: Bool

    /// The channel on which a transaction that stored deliveries tells the other nodes so (they
    /// read the delivery log for their live streams).
    public static let deliveriesCommittedChannel = "inboxlite_deliveries"

    /// The statement that tells the other nodes, at commit, that deliveries were stored; nil where
    /// no other node can be writing.
    public var announceDeliveries: String? {
        hasOtherWriters ? "NOTIFY \(Self.deliveriesCommittedChannel)" : nil
    }

    /// A text column the planner must not pick an index for (SQLite: `+column`; PostgreSQL:
    /// `(column || '')`, which a prepared statement's generic plan needs as much: it cannot see
    /// that a session holds thousands of rows and would intersect them with a one-row index).
    public func unindexed(_ column: String) -> String {
        engine == .sqlite ? "+\(column)" : "(\(column) || '')"
    }

    /// `INDEXED BY name` where the engine takes index hints, else nothing.
    public func indexedBy(_ index: String) -> String {
        engine == .sqlite ? "INDEXED BY \(index)" : ""
    }

    /// The dialect of `engine`.
    public static func of(_ engine: StoreEngine) -> SQLDialect {
        engine == .sqlite ? .sqlite : .postgresql
    }

    // MARK: JSON built in a query (the read models' nested lists and objects)

    /// An object of `key: SQL expression` members, in this order.
    public func jsonObject(_ members: KeyValuePairs<String, String>) -> String {
        let list = members.map { "'\($0.key)', \($0.value)" }.joined(separator: ", ")
        return engine == .sqlite ? "json_object(\(list))" : "json_build_object(\(list))"
    }

    /// The aggregate array of `element` over the rows of the enclosing SELECT, `[]` for none.
    public func jsonArrayAggregate(_ element: String) -> String {
        engine == .sqlite ? "json_group_array(\(element))" : "COALESCE(json_agg(\(element)), '[]'::json)"
    }

    /// An object with its null members left out.
    public func jsonWithoutNulls(_ object: String) -> String {
        engine == .sqlite ? "json_patch('{}', \(object))" : "json_strip_nulls(\(object))"
    }

    /// Stored JSON text as a JSON value (not a string) inside a built object.
    public func jsonValue(_ text: String) -> String {
        engine == .sqlite ? "json(\(text))" : "(\(text))::json"
    }

    /// A 0/1 column as JSON `true`/`false` inside a built object (NULL stays NULL).
    public func jsonBoolean(_ flag: String) -> String {
        engine == .sqlite
            ? "CASE WHEN \(flag) IS NOT NULL THEN json(CASE \(flag) WHEN 1 THEN 'true' ELSE 'false' END) END"
            : "(\(flag) = 1)"
    }

    /// `LIKE` without regard to case (SQLite's `LIKE` is, for ASCII; PostgreSQL's is not).
    public var caseInsensitiveLike: String { engine == .sqlite ? "LIKE" : "ILIKE" }

    public static let sqlite = SQLDialect(engine: .sqlite, greatest: "max", least: "min", feedsFullTextTable: true, hasOtherWriters: false)
    public static let postgresql = SQLDialect(
        engine: .postgresql, greatest: "GREATEST", least: "LEAST", feedsFullTextTable: false, hasOtherWriters: true
    )
}

/// A statement whose text depends on the engine, written out once per engine (a `static let`)
/// instead of on every call: the hot ones run for most deliveries, and building the text each time
/// cost an allocation each.
public struct PerEngine: Sendable {
    private let sqlite: String
    private let postgresql: String

    public init(_ text: (SQLDialect) -> String) {
        sqlite = text(.sqlite)
        postgresql = text(.postgresql)
    }

    public subscript(dialect: SQLDialect) -> String {
        dialect.engine == .sqlite ? sqlite : postgresql
    }
}
