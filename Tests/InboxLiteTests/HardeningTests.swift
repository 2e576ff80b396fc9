import Foundation
import HTTPTypes
import HummingbirdTesting
@testable import InboxQuery
@testable import InboxStore
import NIOCore
import Testing
import WebhookReceiver
import InboxLite

@Suite("Hardening: bounded, exact, authenticated before parsed")
struct HardeningTests {
    // MARK: - Every byte kept

    @Test func textRoundTripsExactlyInBodyDataAndTheRawDelivery() async throws {
        let inbox = try TestInbox()
        defer { inbox.remove() }
        // NUL, a lone surrogate escape, a 4-byte emoji, combining marks, RTL marks.
        let text = #"hola\u0000mundo \ud800 😀👍🏽 e\u0301 \u200fمرحبا\u200e end"#
        let json = Payload.received(key: "U1", body: text)
        try await inbox.run { client async throws in
            #expect(try await client.status(SignedWebhook(json: json)) == .ok)
        }
        let row = try #require(try inbox.rows("SELECT body, data FROM messages").first)
        let body = try #require(row.string(0))
        // PostgreSQL's text cannot hold NUL: there it is the replacement character.
        let nul = TestInbox.onSQLite ? "\u{0}" : "\u{FFFD}"
        #expect(body == "hola\(nul)mundo \u{FFFD} 😀👍🏽 e\u{301} \u{200F}مرحبا\u{200E} end", "decoded text, NUL included")
        let data = try #require(row.string(1))
        #expect(data.contains(#""body":"\#(text)""#), "data keeps the exact bytes, escapes included")
        let raw = try #require(try inbox.rows("SELECT body FROM webhook_deliveries").first?.string(0))
        #expect(Array(raw.utf8) == Array(json.utf8), "the raw delivery is byte for byte what was signed")
    }

    @Test func aLaterEventLackingAFieldNeverOverwritesItWithADefault() async throws {
        let inbox = try TestInbox()
        defer { inbox.remove() }
        let full = Payload.received(key: "F1", body: "con foto", timestamp: 1_729_443_600, extra: #","hasMedia":true,"isForwarded":true"#)
        // The same message again, from a gateway that sends less: no timestamp, media or forwarded flags.
        let sparse = Payload.envelope("message.received", data:
            #"{"id":{"fromMe":false,"remote":"34612345678@c.us","id":"F1","_serialized":"false_34612345678@c.us_F1_in"},"body":"con foto","from":"34612345678@c.us"}"#)
        try await inbox.run { client async throws in
            #expect(try await client.status(SignedWebhook(json: full)) == .ok)
            #expect(try await client.status(SignedWebhook(json: sparse)) == .ok)
        }
        let row = try #require(try inbox.rows("SELECT timestamp, has_media, is_forwarded FROM messages").first)
        #expect(row.int(0) == 1_729_443_600 && row.int(1) == 1 && row.int(2) == 1)
    }

    @Test func anAckKeepsItsOwnTimeAndItsArrivalTime() async throws {
        let inbox = try TestInbox()
        defer { inbox.remove() }
        try await inbox.run { client async throws in
            #expect(try await client.status(SignedWebhook(json: Payload.sent(key: "T1"))) == .ok)
            #expect(try await client.status(SignedWebhook(json: Payload.ack("T1", 3, timestamp: 1_729_443_650))) == .ok)
            // An ack before its message keeps its time through pending_acks too.
            #expect(try await client.status(SignedWebhook(json: Payload.ack("T2", 2, timestamp: 1_729_443_700))) == .ok)
            #expect(try await client.status(SignedWebhook(json: Payload.sent(key: "T2"))) == .ok)
        }
        let rows = try inbox.rows("SELECT ack_at, ack_received_at FROM messages ORDER BY id")
        #expect(rows.map { $0.string(0) } == ["2024-10-20T17:00:50.000Z", "2024-10-20T17:01:40.000Z"])
        #expect(rows.allSatisfy { $0.string(1).map { $0 > "2025" } == true }, "arrival time kept separately")
        #expect(try inbox.rows("SELECT ack_at FROM message_acks ORDER BY id").map { $0.string(0) }
                == ["2024-10-20T17:00:50.000Z", "2024-10-20T17:01:40.000Z"])
    }

    @Test func searchSnippetsAreSafeHTML() async throws {
        let inbox = try TestInbox()
        defer { inbox.remove() }
        try await inbox.run { client async throws in
            let hostile = #"<img src=x onerror=alert(1)> presupuesto & \"cosas\""#
            #expect(try await client.status(SignedWebhook(json: Payload.received(key: "X1", body: hostile))) == .ok)
            let (_, _, json) = try await client.get("/api/search?q=presupuesto")
            let snippet = try #require((json["data"] as? [[String: Any]])?.first?["snippet"] as? String)
            #expect(snippet == "&lt;img src=x onerror=alert(1)&gt; <mark>presupuesto</mark> &amp; &quot;cosas&quot;")
        }
    }

    @Test func hostileJSONIsRefusedWithAClearError() async throws {
        let inbox = try TestInbox()
        defer { inbox.remove() }
        try await inbox.run { client async throws in
            let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
            for (json, reason) in [
                (#"{"event":"message.received","data":\#(deep)}"#, "nested deeper"),
                (#"{"event":"x","sessionId":"crm","data":{}} trailing"#, "after the JSON value"),
                ("{\"event\":\"x\",\"data\":\"\u{1}\"}", "control character"),
            ] {
                let (status, answer) = try await client.post(SignedWebhook(json: json))
                #expect(status == .badRequest)
                #expect((answer["message"] as? String)?.contains(reason) == true, "\(answer)")
            }
            var invalid = SignedWebhook(json: "")
            invalid.body = Array(#"{"event":"x","sessionId":"crm","data":{"t":""#.utf8) + [0xFF, 0xFE] + Array(#""}}"#.utf8)
            invalid.headers[.webhookSignature] = WebhookSigner.signature(for: invalid.body, secret: TestInbox.secret)
            let (status, answer) = try await client.post(invalid)
            #expect(status == .badRequest && (answer["message"] as? String)?.contains("UTF-8") == true)
        }
        #expect(try inbox.count("webhook_deliveries") == 0)
    }

    // MARK: - Authenticated before parsed

    @Test func theSecretIsChosenWithoutParsingAndTheBodyMustAgree() async throws {
        let inbox = try TestInbox(sessionSecrets: ["vip": ["vip-secret"]])
        defer { inbox.remove() }
        try await inbox.run { client async throws in
            // Not JSON at all, without a valid signature: 401, never 400 — it was not parsed.
            let garbage = SignedWebhook(json: "{not json", session: nil, signature: "sha256=" + String(repeating: "0", count: 64))
            #expect(try await client.post(garbage).1["error"] as? String == "invalid_signature")
            // No header: the scan finds "vip" and its secret verifies.
            let vip = SignedWebhook(json: Payload.received(key: "V1", session: "vip"), secret: "vip-secret", session: nil)
            #expect(try await client.status(vip) == .ok)
            // A body crafted so the scan sees an unlisted session while it really claims "vip",
            // signed with the default secret: refused.
            let sneaky = #"{"event":"message.received","data":{"note":"\"sessionId\":\"x\""},"x":{"sessionId":"crm"},"sessionId":"vip"}"#
            let (status, answer) = try await client.post(SignedWebhook(json: sneaky, session: nil))
            #expect(status == .unauthorized, "\(answer)")
        }
        #expect(try inbox.count("webhook_deliveries") == 1)
    }

    // MARK: - Bounded

    /// (The writer stalled by SQLite's write lock held elsewhere.)
    @Test(.timeLimit(.minutes(1)), .enabled(if: TestInbox.onSQLite)) func aFullWriterQueueAnswersStoreBusyAndLosesNothingAccepted() async throws {
        var inbox = try TestInbox()
        inbox.configuration.maxQueuedDeliveries = 1
        inbox.configuration.busyTimeoutMilliseconds = 3000
        defer { inbox.remove() }
        let store = inbox.configuration.store
        let statuses = try await inbox.live { port, _ in
            // Hold the write lock so the writer stalls on its first batch.
            let blocker = UncheckedConnection(try InboxDatabase.openWriter(store))
            try blocker.connection.execute("BEGIN IMMEDIATE")
            return try await withThrowingTaskGroup(of: (Int, String).self) { group in
                for index in 0..<6 {
                    let request = SignedWebhook(json: Payload.received(key: "Q\(index)")).rawRequest(path: "/webhooks/inbox-hub")
                    group.addTask { try await RawHTTPConnection.request(port: port, request) }
                    try await Task.sleep(for: .milliseconds(50))
                }
                try await Task.sleep(for: .milliseconds(200))
                try blocker.connection.execute("ROLLBACK")
                return try await group.reduce(into: []) { $0.append($1) }
            }
        }
        let busy = statuses.filter { $0.1.contains(#""error":"store_busy""#) }
        #expect(!busy.isEmpty, "\(statuses.map(\.0))")
        #expect(busy.allSatisfy { $0.0 == 503 && $0.1.lowercased().contains("retry-after: 1") })
        #expect(statuses.allSatisfy { $0.0 == 200 || $0.1.contains("store_busy") }, "\(statuses.map(\.0))")
        let accepted = statuses.filter { $0.0 == 200 }.count
        #expect(accepted >= 1)
        #expect(try inbox.count("webhook_deliveries") == accepted, "every 200 is committed, nothing else")
    }

    @Test func eventStreamsAreCappedAndNewClientsStartAtTheLiveHead() async throws {
        var inbox = try TestInbox()
        inbox.configuration.maxEventStreams = 1
        defer { inbox.remove() }
        try await inbox.live { port, _ in
            #expect(try await RawHTTPConnection.request(port: port, SignedWebhook(json: Payload.received(key: "H0")).rawRequest(path: "/webhooks/inbox-hub")).0 == 200)
            let first = try RawHTTPConnection(port: port)
            first.send(AuthenticationTests.get("/api/events", token: "test-token"))
            _ = await first.read(timeout: 5) { $0.contains("\r\n\r\n") }
            let (status, refused) = try await RawHTTPConnection.request(port: port, AuthenticationTests.get("/api/events", token: "test-token"))
            #expect(status == 503 && refused.contains("too_many_streams") && refused.lowercased().contains("retry-after"))
            #expect(try await RawHTTPConnection.request(port: port, SignedWebhook(json: Payload.received(key: "H1")).rawRequest(path: "/webhooks/inbox-hub")).0 == 200)
            let stream = await first.read(timeout: 5) { $0.contains("id: 2") }
            #expect(stream.contains("id: 2") && !stream.contains("id: 1\n"), "no backlog without Last-Event-ID")
        }
    }

    @Test func aSubscriberIsCutOffWhenItsBufferPassesItsByteBound() async throws {
        let broadcaster = EventBroadcaster(bufferSize: 1000, maxBufferedBytes: 1000)
        let subscription = try broadcaster.subscribe(scope: .everySession)
        let big = String(repeating: "x", count: 400)
        broadcaster.publish((1...5).map { LiveEvent(id: Int64($0), event: "message.received", sessionId: "s", body: big) })
        var received: [Int64] = []
        for await item in subscription.stream {
            if case .event(let event) = item { received.append(event.id) }
        }
        #expect(received == [1, 2], "two 400-byte events fit in 1000 bytes, the third does not")
        #expect(subscription.overflowed)
    }

    /// (The pool's admission is the same code for both engines; tested on SQLite's readers.)
    @Test(.enabled(if: TestInbox.onSQLite)) func readsBeyondTheQueueCapAre503() async throws {
        let inbox = try TestInbox()
        defer { inbox.remove() }
        try await inbox.run { _ async throws in }  // creates and migrates the database
        let pool = ReadPool(store: inbox.configuration.store, maxPending: 1)
        let slow = Task { try await pool.read { _ in Thread.sleep(forTimeInterval: 0.5); return 1 } }
        try await Task.sleep(for: .milliseconds(100))
        await #expect(throws: QueryError.overloaded) { try await pool.read { _ in 2 } }
        #expect(try await slow.value == 1)
        #expect(try await pool.read { _ in 3 } == 3, "capacity comes back")
    }

    // MARK: - One writer

    /// (SQLite only: on PostgreSQL a second node on the same database is the point.)
    @Test(.enabled(if: TestInbox.onSQLite)) func aSecondServiceOnTheSameDatabaseFailsAtStart() async throws {
        let inbox = try TestInbox()
        defer { inbox.remove() }
        let first = try await buildApplication(configuration: inbox.configuration)
        await #expect(throws: StoreOwnerError.self) { _ = try await buildApplication(configuration: inbox.configuration) }
        _ = first
    }

    // MARK: - Stream resume and retention

    @Test(.timeLimit(.minutes(1))) func anIdOlderThanRetentionGetsResetThenTheLiveHead() async throws {
        var inbox = try TestInbox()
        inbox.configuration.retainBodies = 0.5
        defer { inbox.remove() }
        let reader = inbox
        try await inbox.live { port, _ in
            let bodies = ["R1", "R2"].map { SignedWebhook(json: Payload.received(key: $0)).rawRequest(path: "/webhooks/inbox-hub") }
            for body in bodies {
                #expect(try await RawHTTPConnection.request(port: port, body).0 == 200)
            }
            // Housekeeping runs every second; wait until retention has passed both deliveries.
            for _ in 0..<50 where try reader.count("webhook_deliveries", where: "body_removed_at IS NOT NULL") < 2 {
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(try reader.count("webhook_deliveries", where: "body = '' AND body_removed_at IS NOT NULL") == 2)
            // The row and hash stay: a late retry of the same body is still a duplicate.
            let (status, again) = try await RawHTTPConnection.request(port: port, bodies[0])
            #expect(status == 200 && again.contains(#""duplicate":true"#))

            let stream = try RawHTTPConnection(port: port)
            stream.send("GET /api/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer test-token\r\nLast-Event-ID: 1\r\n\r\n")
            _ = await stream.read(timeout: 5) { $0.contains("event: reset") }
            #expect(try await RawHTTPConnection.request(port: port, SignedWebhook(json: Payload.received(key: "R3")).rawRequest(path: "/webhooks/inbox-hub")).0 == 200)
            // (Its id is 3 on SQLite; a PostgreSQL sequence also counted the duplicate's attempt.)
            let latest = try #require(try reader.rows("SELECT max(id) FROM webhook_deliveries").first?.int(0))
            let text = await stream.read(timeout: 5) { $0.contains("id: \(latest)\n") }
            #expect(text.contains("event: reset\ndata: "), "\(text)")
            #expect(text.contains("id: \(latest)\n") && !text.contains("id: 2\n"))
        }
    }

    // MARK: - Stats and health from counters

    @Test func statsAndHealthCountEveryOutcomeAndFailuresAgeOut() async throws {
        var inbox = try TestInbox()
        inbox.configuration.failureWindow = 3600
        defer { inbox.remove() }
        try await inbox.run { client async throws in
            for body in [Payload.received(key: "C1"), Payload.ack("C1", 3), Payload.envelope("conversation.created", data: "{}"),
                         Payload.envelope("message.received", data: #"{"body":"no id"}"#)] {
                #expect(try await client.status(SignedWebhook(json: body)) == .ok)
            }
            let (_, _, stats) = try await client.get("/api/webhooks/stats")
            let data = try #require(stats["data"] as? [String: Any])
            #expect(data["totalDeliveries"] as? Int == 4 && data["successfulDeliveries"] as? Int == 2)
            #expect(data["failedDeliveries"] as? Int == 1 && data["ignoredDeliveries"] as? Int == 1)
            #expect((data["byEvent"] as? [String: Int]) == ["message.received": 2, "message.ack": 1, "conversation.created": 1])
            let (_, _, health) = try await client.get("/api/webhooks/health")
            let report = try #require(health["data"] as? [String: Any])
            #expect(report["status"] as? String == "degraded", "a failure within the window")
            #expect(report["failed_total"] as? Int == 1 && report["failed_pending_retry"] as? Int == 0 && report["failed_given_up"] as? Int == 1)
        }
        // The counters agree with the table.
        let counted = try inbox.rows("SELECT sum(deliveries) FROM delivery_counts").first?.int(0)
        #expect(counted == (try inbox.count("webhook_deliveries")))

        // Later (the failure is older than the window), health is healthy again but keeps the totals.
        try inbox.execute("UPDATE webhook_deliveries SET received_at = '2020-01-01T00:00:00.000Z' WHERE status = 'failed'")
        try await inbox.run { client async throws in
            let (_, _, health) = try await client.get("/api/webhooks/health")
            let report = try #require(health["data"] as? [String: Any])
            #expect(report["status"] as? String == "healthy")
            #expect(report["failed_total"] as? Int == 1)
        }
    }

    /// A client that pools connections (a proxy) never sends a request down a connection the
    /// server is closing: asked to close, the answer says `Connection: close`; kept alive, a
    /// connection stays open while used and closes only after the idle timeout; an open event
    /// stream is a request in progress, never idle. (`scripts/pooling_client_test.py` runs 1,500
    /// requests through Python's requests.Session against the same rules.)
    @Test(.timeLimit(.minutes(1))) func connectionsCloseOnlyInAWayAPoolingClientSurvives() async throws {
        var inbox = try TestInbox()
        // Four seconds: a margin over the 0.6 s pauses below that holds on a loaded machine (two
        // were exceeded once in CI, under the parallel PostgreSQL run of the suite).
        inbox.configuration.idleTimeout = .seconds(4)
        inbox.configuration.eventHeartbeat = .milliseconds(200)
        defer { inbox.remove() }
        try await inbox.live { port, _ in
            for spelling in ["close", "Close", "keep-alive, close"] {
                let asked = try RawHTTPConnection(port: port)
                asked.send("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: \(spelling)\r\n\r\n")
                let answer = await asked.read(timeout: 3) { $0.contains("\"status\":\"ok\"") }
                #expect(answer.lowercased().contains("\r\nconnection: close\r\n"), "\(spelling): \(answer)")
            }
            let kept = try RawHTTPConnection(port: port)
            for round in 1...3 {
                kept.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                let answers = await kept.read(timeout: 3) { $0.components(separatedBy: "HTTP/1.1 200").count - 1 == round }
                #expect(!answers.lowercased().contains("connection: close") && !kept.peerClosed, "round \(round)")
                try await Task.sleep(for: .milliseconds(600))  // idle, but less than the timeout each time
            }
            _ = await kept.read(timeout: 7) { _ in false }
            #expect(kept.peerClosed, "closed after four seconds idle")
            let stream = try RawHTTPConnection(port: port)
            stream.send(AuthenticationTests.get("/api/events", token: "test-token").replacingOccurrences(of: "Connection: close\r\n", with: ""))
            let streamed = await stream.read(timeout: 6) { _ in false }
            #expect(streamed.hasPrefix("HTTP/1.1 200") && streamed.contains(": heartbeat") && !stream.peerClosed)
        }
    }
}
