import Crypto
import Foundation
import InboxEvents
import InboxPostgres
import InboxStore
import Logging
import Testing

/// The write side is written once for both engines: the same deliveries, committed in the same
/// batches at the same times, must leave the same rows in SQLite and in PostgreSQL — every table,
/// every column. Row ids may differ (a PostgreSQL sequence also advances for an insert that a
/// conflict skipped), so ids are compared by their order within their table.
@Suite("Engine parity: the same deliveries leave the same rows in SQLite and PostgreSQL",
       .enabled(if: PostgresTestServer.available, "needs INBOXLITE_TEST_POSTGRES_URL (scripts/test starts a cluster)"))
struct EngineParityTests {
    /// Integer columns that hold another table's row id, and that table.
    static let references: [String: String] = [
        "contact_id": "contacts", "merged_contact_id": "contacts",
        "delivery_id": "webhook_deliveries", "last_delivery_id": "webhook_deliveries",
        "message_id": "messages", "last_message_id": "messages", "group_id": "groups",
    ]

    @Test("the real-traffic corpus and a generated realistic stream, in batches, with retries and failures")
    func sameRows() async throws {
        // Plus two that cannot be applied (no session anywhere: failed) and one InboxLite does
        // not file (ignored).
        let unusual = [
            #"{"event":"message.received","data":{"body":"x"}}"#, #"{"event":"message.ack","data":{"ack":2}}"#,
            #"{"event":"presence.update","sessionId":"parity","data":{"status":"typing"}}"#,
        ].compactMap { Self.delivery(Array($0.utf8), provider: .inboxHub, at: Date(timeIntervalSince1970: 1_789_980_000)) }
        let deliveries = try unusual + Self.corpus() + Self.generatedStream()
        try #require(deliveries.count > 1_000)
        try await PostgresTestServer.withDatabase { location, client in
            try await PostgresMigrator(migrations: Migration.load(from: PostgresTestServer.migrationsRoot.appendingPathComponent("postgresql")))
                .migrate(client, logger: PostgresTestServer.logger)
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("inboxlite-parity-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: folder) }
            let owner = try StoreOwner(StoreConfiguration(path: folder.appendingPathComponent("db.sqlite").path))
            defer { owner.release() }
            try owner.migrate(Migration.load(from: PostgresTestServer.migrationsRoot))
            let sqlite = try owner.makeWriter()
            let postgres = PostgresBlockingConnection(location: location, logger: PostgresTestServer.logger)
            defer { postgres.close() }
            let postgresWriter = try InboxWriter(database: postgres)

            // Batches of varied size, as the writer forms them under load; a fixed clock per batch.
            var start = 0
            var batchNumber = 0
            var outcomes: [String: Int] = [:]
            while start < deliveries.count {
                let size = [1, 7, 64, 200][batchNumber % 4]
                let batch = Array(deliveries[start..<min(start + size, deliveries.count)])
                let now = Date(timeIntervalSince1970: 1_790_000_000 + Double(batchNumber))
                let inSQLite = try sqlite.commit(batch, now: now)
                let inPostgres = try postgresWriter.commit(batch, now: now)
                for (left, right) in zip(inSQLite, inPostgres) {
                    outcomes[Self.outcome(left), default: 0] += 1
                    if Self.outcome(left) != Self.outcome(right) { outcomes["differ", default: 0] += 1 }
                }
                start += size
                batchNumber += 1
            }
            let failures = "SELECT DISTINCT last_error FROM webhook_deliveries WHERE status = 'failed' ORDER BY 1"
            let reader = try InboxDatabase.openReader(owner.configuration)
            let (sqliteFailures, postgresFailures) = (try reader.query(failures).map { $0.string(0) }, try postgres.query(failures).map { $0.string(0) })
            #expect(sqliteFailures == postgresFailures)
            #expect(outcomes["differ", default: 0] == 0)
            // The stream exercises every outcome, so each path is compared.
            #expect(outcomes["applied", default: 0] > 1_000)
            #expect(outcomes["duplicate", default: 0] > 10)
            #expect(outcomes["ignored", default: 0] > 0)
            #expect(outcomes["failed", default: 0] > 0)

            let tables = try reader.query(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'messages_fts%' AND name <> 'schema_migrations' ORDER BY name"
            ).compactMap { $0.string(0) }
            #expect(tables.count >= 20)
            let sqliteRows = try Self.snapshot(tables, reader)
            let postgresRows = try Self.snapshot(tables, postgres)
            for table in tables {
                let (left, right) = (sqliteRows[table] ?? [], postgresRows[table] ?? [])
                let onlySQLite = Set(left).subtracting(right).sorted().prefix(2).map { $0.prefix(700) }
                let onlyPostgres = Set(right).subtracting(left).sorted().prefix(2).map { $0.prefix(700) }
                #expect(left.count == right.count && onlySQLite.isEmpty,
                        "\(table) (\(left.count) vs \(right.count) rows): only in SQLite \(onlySQLite); only in PostgreSQL \(onlyPostgres)")
            }
            #expect((sqliteRows["messages"] ?? []).count > 500)
        }
    }

    static func outcome(_ result: DeliveryResult) -> String {
        switch result {
        case .duplicate: "duplicate"
        case .stored(_, let status, _): status.rawValue
        }
    }

    /// Every table as sorted lines of text, ids replaced by their rank in their table.
    static func snapshot(_ tables: [String], _ db: any SQLDatabase) throws -> [String: [String]] {
        var rank: [String: [Int64: Int]] = [:]
        for table in tables where try columnNames(table, db).contains("id") {
            let ids = try db.query("SELECT id FROM \(table) ORDER BY id").compactMap { $0.int(0).map(Int64.init) }
            rank[table] = Dictionary(uniqueKeysWithValues: ids.enumerated().map { ($1, $0 + 1) })
        }
        var snapshot: [String: [String]] = [:]
        for table in tables {
            let columns = try columnNames(table, db)
            // The event log's id is random per database by design (event ids differ between databases).
            let differs = table == "store_state" ? " WHERE name <> 'event_log_id'" : ""
            let rows = try db.query("SELECT \(columns.joined(separator: ", ")) FROM \(table)\(differs)")
            snapshot[table] = rows.map { row in
                zip(columns, row.values).map { column, value in
                    let target = column == "id" ? table : references[column]
                    if let target, case .integer(let id) = value, let ranks = rank[target] {
                        return "\(column)=#\(ranks[id].map(String.init) ?? "missing \(id)")"
                    }
                    return "\(column)=\(text(value))"
                }.joined(separator: " | ")
            }.sorted()
        }
        return snapshot
    }

    static func columnNames(_ table: String, _ db: any SQLDatabase) throws -> [String] {
        if db.dialect.engine == .sqlite {
            return try db.query("SELECT name FROM pragma_table_xinfo(?) ORDER BY cid", table).compactMap { $0.string(0) }
        }
        return try db.query(
            "SELECT column_name::text FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position", table
        ).compactMap { $0.string(0) }
    }

    static func text(_ value: SQLValue) -> String {
        switch value {
        case .null: "NULL"
        case .integer(let integer): "\(integer)"
        case .real(let real): real == real.rounded() && abs(real) < 1e15 ? "\(Int64(real))" : "\(real)"
        case .text(let text): "'\(text)'"
        case .blob(let bytes): "x'\(bytes.map { String(format: "%02x", $0) }.joined())'"
        }
    }

    // MARK: - Deliveries

    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func delivery(_ body: [UInt8], provider: Provider, header session: String? = nil, at receivedAt: Date) -> IncomingDelivery? {
        guard let envelope = try? WebhookEnvelope.parse(body, provider: provider) else { return nil }
        return IncomingDelivery(body: body, bodySHA256: SHA256.hash(data: body).map { String(format: "%02x", $0) }.joined(),
                                sessionId: envelope.sessionId ?? session, receivedAt: receivedAt, envelope: envelope)
    }

    /// `Tests/InboxLiteTests/Corpus/real-traffic.json`: Meta, WAHA and Evolution bodies as sent.
    static func corpus() throws -> [IncomingDelivery] {
        let file = root.appendingPathComponent("Tests/InboxLiteTests/Corpus/real-traffic.json")
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any]
        let entries = try #require(object?["entries"] as? [[String: Any]])
        return try entries.enumerated().compactMap { index, entry in
            let provider = try #require(Provider(rawValue: entry["gateway"] as? String ?? ""))
            let body = try JSONSerialization.data(withJSONObject: try #require(entry["body"]), options: [.withoutEscapingSlashes])
            return delivery(Array(body), provider: provider, at: Date(timeIntervalSince1970: 1_789_990_000 + Double(index)))
        }
    }

    /// The benchmark's realistic stream (`scripts/bench_ingest_gen.py`, 2,500 deliveries and their
    /// retries): receipts before their messages, reactions, edits, deletions, media, groups, renames.
    static func generatedStream() throws -> [IncomingDelivery] {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("parity-stream-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: output) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", root.appendingPathComponent("scripts/bench_ingest_gen.py").path, "2500", "secret", output.path, "localhost", "11"]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0)
        // Records of "<length>\n<raw HTTP request>".
        let data = Array(try Data(contentsOf: output))
        var deliveries: [IncomingDelivery] = []
        var position = 0
        while position < data.count {
            guard let newline = data[position...].firstIndex(of: UInt8(ascii: "\n")),
                  let length = Int(String(decoding: data[position..<newline], as: UTF8.self)) else { break }
            let request = data[(newline + 1)..<(newline + 1 + length)]
            position = newline + 1 + length
            let text = String(decoding: request, as: UTF8.self)
            guard let split = text.range(of: "\r\n\r\n") else { continue }
            let head = text[..<split.lowerBound]
            let provider: Provider = head.hasPrefix("POST /webhooks/waha") ? .waha : .inboxHub
            let session = head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("x-webhook-session:") }
                .map { $0.split(separator: ":", maxSplits: 1)[1].trimmingCharacters(in: .whitespaces) }
            let body = Array(text[split.upperBound...].utf8)
            if let delivery = delivery(body, provider: provider, header: session,
                                       at: Date(timeIntervalSince1970: 1_790_000_000 + Double(deliveries.count) / 100)) {
                deliveries.append(delivery)
            }
        }
        return deliveries
    }
}
