import InboxStore
import PostgresNIO

/// The statements one connection has prepared on the server, by their text.
///
/// An unnamed statement is parsed, analysed and planned again on every call — a third of the
/// writer's server time when the rules ran seven small statements a delivery. A prepared one is
/// parsed and analysed once per connection (the writer still plans it for its values each time:
/// `plan_cache_mode`, see `PostgresBlockingConnection`). postgres-nio prepares statements of a
/// runtime text only through `PreparedQuery`, which binds values in binary as the types the server
/// inferred for the parameters: those types are read once from `pg_prepared_statements`, and each
/// value is encoded as its parameter's type. A statement whose parameters have other types, or a
/// value that does not fit its parameter (text for an integer, an integer beyond int4), runs as an
/// unnamed statement as before, so the result is always the same.
struct PostgresPreparedStatements {
    /// How a parameter's value is encoded in binary.
    enum ParameterType: String {
        case smallint, integer, bigint, real, doublePrecision = "double precision", boolean, text
        case varchar = "character varying", bytea
    }

    enum Entry {
        case prepared(PreparedQuery, [ParameterType])
        /// Runs unnamed: not a plain DML or SELECT, or its parameters cannot be encoded.
        case unnamed
    }

    private var entries: [String: Entry] = [:]
    /// Beyond this many texts a connection runs new ones unnamed (a reader sees as many texts as
    /// filter combinations; the writer's rules use about a hundred).
    static let maxPrepared = 400

    /// What is known about `text`; nil when it has not been tried yet.
    func entry(for text: String) -> Entry? {
        entries[text]
    }

    /// Whether `text` is worth preparing at all.
    func shouldTry(_ text: String) -> Bool {
        guard entries.count < Self.maxPrepared else { return false }
        let head = text.prefix(8).uppercased()
        return ["SELECT", "INSERT", "UPDATE", "DELETE", "WITH"].contains { head.hasPrefix($0) }
    }

    mutating func remember(_ entry: Entry, for text: String) {
        entries[text] = entry
    }

    /// Forgets everything (a new connection, or a statement the server says changed shape).
    mutating func removeAll() {
        entries.removeAll()
    }

    /// The parameter types the server inferred for a prepared text, in order; nil when one of
    /// them is not a type this encodes.
    static func parameterTypes(_ names: String) -> [ParameterType]? {
        guard !names.isEmpty else { return [] }
        var types: [ParameterType] = []
        for name in names.split(separator: ",") {
            guard let type = ParameterType(rawValue: String(name)) else { return nil }
            types.append(type)
        }
        return types
    }

    /// The values encoded as the statement's parameter types; nil when one does not fit.
    static func binds(_ values: [SQLValue], as types: [ParameterType]) -> [PostgresData]? {
        guard values.count == types.count else { return nil }
        var binds: [PostgresData] = []
        binds.reserveCapacity(values.count)
        for (value, type) in zip(values, types) {
            guard let bind = encode(value, as: type) else { return nil }
            binds.append(bind)
        }
        return binds
    }

    private static func encode(_ value: SQLValue, as type: ParameterType) -> PostgresData? {
        switch (value, type) {
        case (.null, _): return .null
        case (.integer(let number), .bigint): return PostgresData(int64: Int64(number))
        case (.integer(let number), .integer): return Int32(exactly: number).map { PostgresData(int32: $0) }
        case (.integer(let number), .smallint): return Int16(exactly: number).map { PostgresData(int16: $0) }
        case (.integer(let number), .doublePrecision): return PostgresData(double: Double(number))
        case (.integer(let number), .boolean): return PostgresData(bool: number != 0)
        case (.integer(let number), .text), (.integer(let number), .varchar): return PostgresData(string: String(number))
        case (.real(let number), .doublePrecision): return PostgresData(double: number)
        case (.text(let string), .text), (.text(let string), .varchar): return PostgresData(string: PostgresText.storable(string))
        case (.blob(let bytes), .bytea): return PostgresData(type: .bytea, value: ByteBuffer(bytes: bytes))
        default: return nil
        }
    }
}

/// Text as PostgreSQL can store it.
enum PostgresText {
    /// PostgreSQL's text cannot hold NUL (a message may: `\u0000` is valid JSON): stored as
    /// U+FFFD, the replacement character, as the parser stores a lone surrogate.
    static func storable(_ string: String) -> String {
        string.utf8.contains(0) ? string.replacingOccurrences(of: "\u{0}", with: "\u{FFFD}") : string
    }
}
