import InboxStore

/// One field of a read model: the SQL expression it is selected as, the JSON member it becomes,
/// and how it is written.
///
/// A model's list of fields is the only place a field is declared: the SELECT list, the reading
/// of each row and the JSON members all come from it, so adding a field is one edit (plus its
/// line in `openapi.yaml`, which `ReadModelTests` checks against these lists).
struct Field: Sendable {
    enum Kind: Sendable {
        /// Always present; "" when the column is NULL.
        case text
        /// Left out when NULL.
        case optionalText
        /// Always present; 0 when NULL.
        case integer
        /// Left out when NULL.
        case optionalInteger
        /// Always present: a non-zero integer is true.
        case boolean
        /// A real or integer number, left out when NULL.
        case optionalNumber
        /// A search excerpt with FTS5's hit marks: HTML-escaped, marks turned into `<mark>`.
        case snippet
        /// Stored JSON, written as it is (`null` when empty).
        case rawJSON
        /// Unix seconds written as `2025-10-14T06:30:00Z`, as the `*_time` columns show them;
        /// left out when NULL or out of range. (The generated columns cost a strftime per row.)
        case unixTime
        /// Selected (for a page cursor or a later step), not written.
        case hidden
        /// A nested object of these fields.
        case object([Field])
    }

    let name: StaticString
    let sql: String
    let kind: Kind
    /// `"name":`, encoded once.
    let member: [UInt8]

    init(_ name: StaticString, _ sql: String, _ kind: Kind) {
        self.name = name
        self.sql = sql
        self.kind = kind
        member = Array("\"\(name)\":".utf8)
    }

    /// The field as its own column: `prefix.name` (or just `name`).
    init(_ name: StaticString, _ kind: Kind, table prefix: String? = nil) {
        let column = name.description
        self.init(name, prefix.map { "\($0).\(column)" } ?? column, kind)
    }
}

/// A read model: its fields, the SELECT list they make, and the writer that turns a row into
/// a JSON object straight from SQLite's buffers (no intermediate values or strings).
struct ReadModel: Sendable {
    let fields: [Field]
    /// The SELECT list, fields in order, nested fields in place.
    let selectList: String
    /// How many columns `selectList` selects.
    let columnCount: Int

    init(_ fields: [Field]) {
        self.fields = fields
        var columns: [String] = []
        func collect(_ fields: [Field]) {
            for field in fields {
                if case .object(let nested) = field.kind { collect(nested) } else { columns.append(field.sql) }
            }
        }
        collect(fields)
        selectList = columns.joined(separator: ", ")
        columnCount = columns.count
    }

    /// The column index of a top-level field, for page cursors.
    func column(_ name: String) -> Int {
        var index = 0
        for field in fields {
            if field.name.description == name { return index }
            if case .object(let nested) = field.kind { index += ReadModel(nested).columnCount } else { index += 1 }
        }
        preconditionFailure("no field \(name)")
    }

    /// Writes the row (from column `start`) as one JSON object.
    func write(_ row: SQLiteRowCursor, to json: inout JSONWriter, from start: Int = 0) {
        var column = start
        json.object { json in Self.write(fields, row, &column, &json) }
    }

    private static func write(_ fields: [Field], _ row: SQLiteRowCursor, _ column: inout Int, _ json: inout JSONWriter) {
        for field in fields {
            if case .object(let nested) = field.kind {
                json.key(encoded: field.member)
                json.object { json in write(nested, row, &column, &json) }
                continue
            }
            defer { column += 1 }
            let isNull = row.isNull(column)
            switch field.kind {
            case .text:
                json.key(encoded: field.member)
                json.quoted { json in row.withText(column) { json.appendEscaped($0) } }
            case .optionalText:
                guard !isNull else { continue }
                json.key(encoded: field.member)
                json.quoted { json in row.withText(column) { json.appendEscaped($0) } }
            case .integer:
                json.key(encoded: field.member)
                json.integer(row.int64(column))
            case .optionalInteger:
                guard !isNull else { continue }
                json.key(encoded: field.member)
                json.integer(row.int64(column))
            case .unixTime:
                guard !isNull else { continue }
                _ = json.unixTime(row.int64(column), member: field.member)
            case .boolean:
                json.key(encoded: field.member)
                json.boolean(row.int64(column) != 0)
            case .optionalNumber:
                guard !isNull else { continue }
                json.key(encoded: field.member)
                if row.isReal(column) { json.double(row.double(column)) } else { json.integer(row.int64(column)) }
            case .snippet:
                guard !isNull else { continue }
                json.key(encoded: field.member)
                json.string(Snippet.html(row.string(column) ?? ""))
            case .rawJSON:
                json.key(encoded: field.member)
                row.withText(column) { json.raw($0) }
            case .hidden, .object:
                continue
            }
        }
    }
}
