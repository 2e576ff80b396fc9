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
        /// Stored JSON, written as it is; left out when NULL.
        case optionalRawJSON
        /// Unix seconds written as `2025-10-14T06:30:00Z`, as the `*_time` columns show them;
        /// left out when NULL or out of range. (The generated columns cost a strftime per row.)
        case unixTime
        /// Selected (for a page cursor or a later step), not written.
        case hidden
        /// A nested object of these fields.
        case object([Field])
        /// A nested object of these fields, left out when its first field is NULL (a LEFT JOIN
        /// that found no row).
        case optionalObject([Field])
        /// Stored JSON object whose members become members of this object; nothing when NULL.
        case members
    }

    let name: StaticString
    /// The SQL in each engine's dialect (most fields: the same column in both).
    let sql: @Sendable (SQLDialect) -> String
    let kind: Kind
    /// `"name":`, encoded once.
    let member: [UInt8]

    init(_ name: StaticString, _ sql: String, _ kind: Kind) {
        self.init(name, kind) { _ in sql }
    }

    /// A field whose SQL differs between the engines (JSON built in the query, search).
    init(_ name: StaticString, _ kind: Kind, _ sql: @escaping @Sendable (SQLDialect) -> String) {
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
    /// The SELECT list in each engine's dialect, fields in order, nested fields in place.
    private let selectLists: PerEngine
    /// How many columns `selectList` selects.
    let columnCount: Int

    /// The fields compiled into one flat list of steps over one buffer of member names, so
    /// writing a row walks plain values (no reference counting per field).
    private let steps: [Step]
    private let members: [UInt8]
    /// Each top-level scalar field's column, for page cursors.
    private let topLevelColumns: [String: Int]

    private struct Step {
        enum Operation: UInt8 {
            case text, optionalText, integer, optionalInteger, unixTime, boolean, optionalNumber, snippet, rawJSON, optionalRawJSON
            case members, beginObject, beginOptionalObject, endObject
        }
        let operation: Operation
        let column: Int32
        let memberStart: Int32
        let memberCount: Int32
        /// `beginOptionalObject`: the index of the step after its `endObject`.
        var skipTo: Int32 = 0
    }

    init(_ fields: [Field]) {
        self.fields = fields
        var columns: [Field] = []
        var steps: [Step] = []
        var members: [UInt8] = []
        func step(_ operation: Step.Operation, _ field: Field?) {
            let start = members.count
            if let field { members += field.member }
            steps.append(Step(operation: operation, column: Int32(columns.count - 1), memberStart: Int32(start),
                              memberCount: Int32(members.count - start)))
        }
        var topLevelColumns: [String: Int] = [:]
        func compile(_ fields: [Field], topLevel: Bool) {
            for field in fields {
                if case .object(let nested) = field.kind {
                    step(.beginObject, field)
                    compile(nested, topLevel: false)
                    step(.endObject, nil)
                    continue
                }
                if case .optionalObject(let nested) = field.kind {
                    // Checked: the first nested field's column, the next one selected.
                    let begin = steps.count
                    step(.beginOptionalObject, field)
                    steps[begin] = Step(operation: .beginOptionalObject, column: Int32(columns.count), memberStart: steps[begin].memberStart,
                                        memberCount: steps[begin].memberCount)
                    compile(nested, topLevel: false)
                    step(.endObject, nil)
                    steps[begin].skipTo = Int32(steps.count)
                    continue
                }
                if topLevel { topLevelColumns[field.name.description] = columns.count }
                columns.append(field)
                switch field.kind {
                case .text: step(.text, field)
                case .optionalText: step(.optionalText, field)
                case .integer: step(.integer, field)
                case .optionalInteger: step(.optionalInteger, field)
                case .unixTime: step(.unixTime, field)
                case .boolean: step(.boolean, field)
                case .optionalNumber: step(.optionalNumber, field)
                case .snippet: step(.snippet, field)
                case .rawJSON: step(.rawJSON, field)
                case .optionalRawJSON: step(.optionalRawJSON, field)
                case .members: step(.members, field)
                case .hidden, .object, .optionalObject: break
                }
            }
        }
        compile(fields, topLevel: true)
        self.topLevelColumns = topLevelColumns
        selectLists = PerEngine { dialect in columns.map { $0.sql(dialect) }.joined(separator: ", ") }
        columnCount = columns.count
        self.steps = steps
        self.members = members
    }

    /// The SELECT list for `dialect`.
    func selectList(_ dialect: SQLDialect) -> String {
        selectLists[dialect]
    }

    /// The column index of a top-level field, for page cursors.
    func column(_ name: String) -> Int {
        guard let column = topLevelColumns[name] else { preconditionFailure("no field \(name)") }
        return column
    }

    /// Writes the row (its columns from `start`) as one JSON object.
    func write(_ row: any RowCursor, to json: inout JSONWriter, from start: Int = 0) {
        // SQLite's cursor by its own type: the writer below is then specialised for it, with no
        // dynamic call per cell on the engine whose reads are the hottest.
        if let sqlite = row as? SQLiteRowCursor {
            write(cursor: sqlite, to: &json, from: start)
        } else {
            write(cursor: row, to: &json, from: start)
        }
    }

    private func write<Row: RowCursor>(cursor row: Row, to json: inout JSONWriter, from start: Int) {
        json.beginObject()
        steps.withUnsafeBufferPointer { steps in
            members.withUnsafeBufferPointer { members in
                var index = 0
                while index < steps.count {
                    let step = steps[index]
                    index += 1
                    let column = start + Int(step.column)
                    let member = UnsafeBufferPointer(rebasing: members[Int(step.memberStart)..<Int(step.memberStart + step.memberCount)])
                    switch step.operation {
                    case .text:
                        json.key(encoded: member)
                        json.quoted { json in row.withText(column) { json.appendEscaped($0) } }
                    case .optionalText:
                        guard !row.isNull(column) else { continue }
                        json.key(encoded: member)
                        json.quoted { json in row.withText(column) { json.appendEscaped($0) } }
                    case .integer:
                        json.key(encoded: member)
                        json.integer(row.int64(column))
                    case .optionalInteger:
                        guard !row.isNull(column) else { continue }
                        json.key(encoded: member)
                        json.integer(row.int64(column))
                    case .unixTime:
                        guard !row.isNull(column) else { continue }
                        json.unixTime(row.int64(column), member: member)
                    case .boolean:
                        json.key(encoded: member)
                        json.boolean(row.int64(column) != 0)
                    case .optionalNumber:
                        guard !row.isNull(column) else { continue }
                        json.key(encoded: member)
                        if row.isReal(column) { json.double(row.double(column)) } else { json.integer(row.int64(column)) }
                    case .snippet:
                        guard !row.isNull(column) else { continue }
                        json.key(encoded: member)
                        json.string(Snippet.html(row.string(column) ?? ""))
                    case .rawJSON:
                        json.key(encoded: member)
                        row.withText(column) { json.raw($0) }
                    case .optionalRawJSON:
                        guard !row.isNull(column) else { continue }
                        json.key(encoded: member)
                        row.withText(column) { json.raw($0) }
                    case .members:
                        guard !row.isNull(column) else { continue }
                        row.withText(column) { json.members($0) }
                    case .beginOptionalObject:
                        guard !row.isNull(column) else {
                            index = Int(step.skipTo)
                            continue
                        }
                        json.key(encoded: member)
                        json.beginObject()
                    case .beginObject:
                        json.key(encoded: member)
                        json.beginObject()
                    case .endObject:
                        json.endObject()
                    }
                }
            }
        }
        json.endObject()
    }
}
