import Foundation
import HTTPTypes
import InboxEvents
@testable import InboxStore
import Testing

/// The real-traffic corpus (`Corpus/real-traffic.json`): bodies shaped as Meta, WAHA and Evolution
/// really send them, each citing its public source. Posted in order, correctly signed, to a real
/// InboxLite; after each one, the row it must leave and the API answer a CRM would read.
@Suite("Corpus: real-shaped bodies of every gateway, each checked in the rows and the API")
struct CorpusTests {
    struct Entry: Sendable {
        let gateway: Provider
        let source: String
        let body: String
        let status: Int
        let rows: (sql: String, equals: String)?
        /// The path, where in the answer, and the value expected there as JSON text.
        let api: (path: String, at: String, equals: String)?
    }

    static func entries() throws -> [Entry] {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Corpus/real-traffic.json")
        let root = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any])
        let list = try #require(root["entries"] as? [[String: Any]])
        return try list.map { item in
            var object = try #require(item["body"])
            // WAHA signs its envelope's time (ms), checked against --timestamp-tolerance: sent as now.
            if item["gateway"] as? String == "waha", var envelope = object as? [String: Any], envelope["timestamp"] != nil {
                envelope["timestamp"] = Int64(Date().timeIntervalSince1970 * 1000)
                object = envelope
            }
            let body = try JSONSerialization.data(withJSONObject: object, options: [.withoutEscapingSlashes])
            let rows = (item["rows"] as? [String: String]).map { ($0["sql"] ?? "", $0["equals"] ?? "") }
            let api = try (item["api"] as? [String: Any]).map { api in
                let value = try JSONSerialization.data(withJSONObject: api["equals"] ?? NSNull(), options: [.fragmentsAllowed])
                return (api["path"] as? String ?? "", api["at"] as? String ?? "", String(decoding: value, as: UTF8.self))
            }
            return Entry(gateway: try #require(Provider(rawValue: item["gateway"] as? String ?? "")), source: item["source"] as? String ?? "",
                         body: String(decoding: body, as: UTF8.self), status: item["status"] as? Int ?? 200, rows: rows, api: api)
        }
    }

    /// The value at a dotted path (`data.message.reactions.0.emoji`).
    static func value(at path: String, in json: Any) -> Any? {
        var current: Any? = json
        for part in path.split(separator: ".") {
            if let index = Int(part), let array = current as? [Any] {
                current = array.indices.contains(index) ? array[index] : nil
            } else {
                current = (current as? [String: Any])?[String(part)]
            }
        }
        return current
    }

    @Test func everyBodyLeavesItsRowsAndAPIAnswer() async throws {
        let entries = try Self.entries()
        #expect(entries.count >= 60)
        let inbox = try GatewayTests.inbox()
        defer { inbox.remove() }
        try await inbox.run { client in
            for entry in entries {
                let (status, answer) = try await client.post(GatewayWebhook(entry.gateway, entry.body))
                #expect(Int(status.code) == entry.status, "\(entry.source): \(status) \(answer)")
                if let rows = entry.rows {
                    let found = try #require(try? inbox.rows(rows.sql), "\(entry.source): \(rows.sql) does not run").first.map { row in
                        row.values.indices.map { row[$0].int.map(String.init) ?? row.string($0) ?? "NULL" }.joined(separator: "|")
                    }
                    #expect(found == rows.equals, "\(entry.source): \(rows.sql)")
                }
                if let api = entry.api {
                    let (code, _, json) = try await client.get(api.path)
                    let got = Self.value(at: api.at, in: json)
                    let expected = try JSONSerialization.jsonObject(with: Data(api.equals.utf8), options: [.fragmentsAllowed])
                    #expect(code == .ok && (got as? NSObject)?.isEqual(expected) == true,
                            "\(entry.source): GET \(api.path) → \(api.at) = \(String(describing: got)), expected \(api.equals)")
                }
            }
        }
        // Every webhook body ends applied; only what is not a webhook was refused.
        #expect(try inbox.count("webhook_deliveries", where: "status <> 'applied'") == 0)
        #expect(try inbox.count("webhook_deliveries") == entries.filter { $0.status == 200 }.count)
        #expect(try inbox.count("webhook_deliveries", where: "body LIKE '%B6D711FCDE4D4FD5936544120E713976%'") == 0)

        // The same bodies, as the inbox's own events: every kind of change of every gateway is
        // there, each tied to its delivery; message events to their message and its chat.
        let types = Set(try inbox.rows("SELECT DISTINCT type FROM inbox_events").compactMap { $0.string(0) })
        // (message.updated and message.poll_vote: ForwardingTests; the corpus has no poll it votes on.)
        let expected: Set<String> = ["message.received", "message.sent", "message.edited", "message.deleted", "message.ack",
                                     "message.reaction", "session.status", "session.qr", "session.notice", "contact.merged", "group.updated"]
        #expect(expected.subtracting(types).isEmpty, "event types the corpus never produced: \(expected.subtracting(types).sorted())")
        #expect(try inbox.count("inbox_events", where: "delivery_id NOT IN (SELECT id FROM webhook_deliveries)") == 0)
        #expect(try inbox.count("inbox_events e", where: """
            e.type LIKE 'message.%' AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.id = e.message_id AND m.session_id = e.session_id)
            """) == 0, "every message event names its message, in its session")
        #expect(try inbox.count("inbox_events", where: "seq <= 0") == 0)
    }
}
