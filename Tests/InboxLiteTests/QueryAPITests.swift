import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
import WebhookReceiver

extension TestClientProtocol {
    /// GET with the test API token (or `token`), returning status, headers and parsed JSON.
    func get(_ uri: String, token: String? = "test-token") async throws -> (HTTPResponse.Status, HTTPFields, [String: Any]) {
        var headers: HTTPFields = [:]
        if let token { headers[.authorization] = "Bearer \(token)" }
        return try await execute(uri: uri, method: .get, headers: headers) { response in
            let json = (try? JSONSerialization.jsonObject(with: Data(buffer: response.body))) as? [String: Any] ?? [:]
            return (response.status, response.headers, json)
        }
    }

    /// GET with the test API token, returning status and the body as text (event streams).
    func raw(_ uri: String) async throws -> (HTTPResponse.Status, String) {
        try await execute(uri: uri, method: .get, headers: [.authorization: "Bearer test-token"]) { response in
            (response.status, String(buffer: response.body))
        }
    }

    /// Every item of a list endpoint, following `next_cursor` with pages of `limit`.
    func walk(_ uri: String, limit: Int, between: (() async throws -> Void)? = nil) async throws -> [[String: Any]] {
        var items: [[String: Any]] = []
        var cursor: String?
        repeat {
            let separator = uri.contains("?") ? "&" : "?"
            let page = "\(uri)\(separator)limit=\(limit)" + (cursor.map { "&cursor=\($0)" } ?? "")
            let (status, _, json) = try await get(page)
            #expect(status == .ok, "\(page): \(json)")
            items += json["data"] as? [[String: Any]] ?? []
            cursor = json["next_cursor"] as? String
            try await between?()
        } while cursor != nil
        return items
    }
}

@Suite("Query API: read-only JSON over the same database")
struct QueryAPITests {
    /// An inbox with two chats in session "crm" and one in "other", acks and a group.
    private func seeded(_ inbox: TestInbox, client: any TestClientProtocol) async throws {
        let bodies = [
            Payload.received(key: "A1", from: "34611111111@c.us", body: "Hola, ¿cómo estás?", timestamp: 1000, extra: #","notifyName":"Ana""#),
            Payload.sent(key: "A2", to: "34611111111@c.us", body: "Muy bien, gracias", timestamp: 1100),
            Payload.received(key: "A3", from: "34611111111@c.us", body: "Quiero el presupuesto", timestamp: 1200),
            Payload.received(key: "A4", from: "34611111111@c.us", body: "¿Me lo envías?", timestamp: 1300),
            Payload.received(key: "B1", from: "34622222222@c.us", body: "Buenos días", timestamp: 900, extra: #","notifyName":"Bruno""#),
            Payload.ack("A2", 2), Payload.ack("A2", 3, timestamp: 1_729_443_651),
            Payload.received(key: "C1", from: "34633333333@c.us", body: "otra sesión", timestamp: 800, session: "other"),
        ]
        for body in bodies {
            let session = body.contains(#""sessionId":"other""#) ? "other" : "crm"
            let status = try await client.status(SignedWebhook(json: body, session: session))
            #expect(status == .ok)
        }
    }

    @Test func everyQueryEndpointRequiresTheToken() async throws {
        let inbox = try TestInbox()
        defer { inbox.remove() }
        try await inbox.run { client async throws in
            for path in ["/api/sessions", "/api/contacts", "/api/conversations", "/api/search?q=x", "/api/webhooks/stats",
                         "/api/webhooks/health", "/api/webhooks/deliveries", "/api/messages/x", "/api/sessions/s/qr.png"] {
                let (missing, headers, json) = try await client.get(path, token: nil)
                #expect(missing == .unauthorized, "\(path)")
                #expect(headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true)
                #expect(json["error"] as? String == "unauthorized")
                let (wrong, _, _) = try await client.get(path, token: "test-tokenX")
                #expect(wrong == .unauthorized, "\(path)")
            }
            let (ok, _, _) = try await client.get("/api/sessions")
            #expect(ok == .ok)
            let (open, _, connectivity) = try await client.get("/api/webhooks/test/connectivity", token: nil)
            #expect(open == .ok && connectivity["success"] as? Bool == true)
            let (live, _, _) = try await client.get("/healthz", token: nil)
            #expect(live == .ok)
        }
    }

    @Test func sessionsShowStateCountsAndQRCode() async throws {
        let inbox = try TestInbox()
        defer { inbox.remove() }
        try await inbox.run { client async throws in
            try await seeded(inbox, client: client)
            let qr = Payload.envelope("session.qr", data: #"{"qrCode":"data:image/png;base64,\#(SampleWebhooks.onePixelPNG)","expiresAt":"2099-01-01T00:00:00.000Z"}"#)
            #expect(try await client.status(SignedWebhook(json: qr)) == .ok)

            let (status, _, list) = try await client.get("/api/sessions")
            #expect(status == .ok)
            let sessions = list["data"] as? [[String: Any]] ?? []
            #expect(sessions.map { $0["session_id"] as? String } == ["crm", "other"])
            let crm = try #require(sessions.first)
            #expect(crm["status"] as? String == "QR Code" && crm["has_qr_code"] as? Bool == true)
            #expect(crm["message_count"] as? Int == 5 && crm["conversation_count"] as? Int == 2)
            #expect(list.keys.contains("next_cursor") && list["next_cursor"] is NSNull)

            let (one, _, detail) = try await client.get("/api/sessions/other")
            #expect(one == .ok && (detail["data"] as? [String: Any])?["message_count"] as? Int == 1)
            let (missing, _, notFound) = try await client.get("/api/sessions/nope")
            #expect(missing == .notFound && notFound["error"] as? String == "not_found")

            try await client.execute(uri: "/api/sessions/crm/qr.png", method: .get, headers: [.authorization: "Bearer test-token"]) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "image/png")
                #expect(Array(response.body.readableBytesView) == Array(Data(base64Encoded: SampleWebhooks.onePixelPNG)!))
            }
            let (noQR, _, _) = try await client.get("/api/sessions/other/qr.png")
            #expect(noQR == .notFound)
        }
    }

    @Test func conversationsAreSummarisedNewestFirstWithUnreadCounts() async throws {
        let inbox = try TestInbox()
        defer { inbox.remove() }
        try await inbox.run { client async throws in
            try await seeded(inbox, client: client)
            let (status, _, json) = try await client.get("/api/conversations?session=crm")
            #expect(status == .ok)
            let rows = json["data"] as? [[String: Any]] ?? []
            #expect(rows.map { $0["contact"] as? String } == ["34611111111@c.us", "34622222222@c.us"])
            let ana = try #require(rows.first)
            #expect(ana["message_count"] as? Int == 4)
            #expect(ana["unread_count"] as? Int == 2, "two incoming after our last reply")
            #expect(ana["display_name"] as? String == "Ana")
            let last = try #require(ana["last_message"] as? [String: Any])
            #expect(last["body_preview"] as? String == "¿Me lo envías?" && last["from_me"] as? Bool == false)
            #expect(last["timestamp"] as? Int == 1300 && last["message_time"] as? String == "1970-01-01T00:21:40Z")
            let all = try await client.walk("/api/conversations", limit: 1)
            #expect(all.count == 3)
        }
    }

    @Test func threadPagesNewestFirstAndFilters() async throws {
        let inbox = try TestInbox()
        defer { inbox.remove() }
        try await inbox.run { client async throws in
            try await seeded(inbox, client: client)
            let path = "/api/conversations/crm/34611111111@c.us/messages"
            let all = try await client.walk(path, limit: 3)
            #expect(all.map { $0["timestamp"] as? Int } == [1300, 1200, 1100, 1000])
            let sent = try #require(all.first { $0["from_me"] as? Bool == true })
            #expect(sent["status"] as? String == "read" && sent["ack"] as? Int == 3)
            let oldestFirst = try await client.walk(path + "?order=asc", limit: 3)
            #expect(oldestFirst.map { $0["timestamp"] as? Int } == [1000, 1100, 1200, 1300])
            let (_, _, window) = try await client.get(path + "?after=1000&before=1300")
            #expect((window["data"] as? [[String: Any]])?.map { $0["timestamp"] as? Int } == [1200, 1100])
        }
    }

    @Test func paginationReturnsEveryItemOnceWhileWebhooksArrive() async throws {
        let inbox = try TestInbox()
        defer { inbox.remove() }
        try await inbox.run { client async throws in
            for index in 0..<25 {
                let body = Payload.received(key: "P\(index)", from: "3460000\(100 + index)@c.us", timestamp: 5000 + index)
                #expect(try await client.status(SignedWebhook(json: body)) == .ok)
            }
            var extra = 0
            let walked = try await client.walk("/api/contacts", limit: 4) {
                extra += 1
                let body = Payload.received(key: "N\(extra)", from: "3469999\(100 + extra)@c.us", timestamp: 9000 + extra)
                _ = try await client.status(SignedWebhook(json: body))
            }
            let ids = walked.compactMap { $0["whatsapp_id"] as? String }
            #expect(Set(ids).count == ids.count, "no contact twice")
            #expect(Set((0..<25).map { "3460000\(100 + $0)@c.us" }).isSubset(of: Set(ids)), "every original contact once")

            let deliveries = try await client.walk("/api/webhooks/deliveries", limit: 7)
            let deliveryIds = deliveries.compactMap { $0["id"] as? Int }
            #expect(Set(deliveryIds).count == deliveryIds.count && deliveryIds.count >= 25)
            #expect(deliveryIds == deliveryIds.sorted(by: >), "newest first")
        }
    }

    @Test func contactsSearchByNumberOrName() async throws {
        let inbox = try TestInbox()
        defer { inbox.remove() }
        try await inbox.run { client async throws in
            try await seeded(inbox, client: client)
            let (_, _, byName) = try await client.get("/api/contacts?q=brun")
            #expect((byName["data"] as? [[String: Any]])?.map { $0["whatsapp_id"] as? String } == ["34622222222@c.us"])
            let (_, _, byNumber) = try await client.get("/api/contacts?q=%2B34%20611")
            #expect((byNumber["data"] as? [[String: Any]])?.map { $0["whatsapp_id"] as? String } == ["34611111111@c.us"])
            let (_, _, wildcard) = try await client.get("/api/contacts?q=%25")
            #expect((wildcard["data"] as? [[String: Any]])?.isEmpty == true, "% is literal")
            let (one, _, contact) = try await client.get("/api/contacts/34611111111@c.us")
            #expect(one == .ok && (contact["data"] as? [String: Any])?["display_name"] as? String == "Ana")
            let (missing, _, _) = try await client.get("/api/contacts/nobody@c.us")
            #expect(missing == .notFound)
        }
    }

    @Test func messageDetailCarriesAckHistoryAndData() async throws {
        let inbox = try TestInbox()
        defer { inbox.remove() }
        try await inbox.run { client async throws in
            try await seeded(inbox, client: client)
            let (status, _, json) = try await client.get("/api/messages/true_34611111111@c.us_A2_out")
            #expect(status == .ok)
            let detail = try #require(json["data"] as? [String: Any])
            let message = try #require(detail["message"] as? [String: Any])
            #expect(message["status"] as? String == "read")
            #expect((message["data"] as? [String: Any])?["fromMe"] as? Bool == true, "data keeps the gateway's keys")
            let acks = detail["acks"] as? [[String: Any]] ?? []
            #expect(acks.map { $0["status"] as? String } == ["delivered", "read"])
            let (missing, _, _) = try await client.get("/api/messages/nope")
            #expect(missing == .notFound)
        }
    }

    @Test func searchFoldsAccentsHighlightsAndNeverTreatsInputAsSyntax() async throws {
        let inbox = try TestInbox()
        defer { inbox.remove() }
        try await inbox.run { client async throws in
            try await seeded(inbox, client: client)
            let (status, _, json) = try await client.get("/api/search?q=COMO%20estas")
            #expect(status == .ok)
            let hits = json["data"] as? [[String: Any]] ?? []
            #expect(hits.count == 1)
            #expect((hits.first?["snippet"] as? String)?.contains("<mark>cómo</mark>") == true)
            let (_, _, scoped) = try await client.get("/api/search?q=sesion&session=other")
            #expect((scoped["data"] as? [[String: Any]])?.count == 1)
            let (_, _, elsewhere) = try await client.get("/api/search?q=sesion&session=crm")
            #expect((elsewhere["data"] as? [[String: Any]])?.isEmpty == true)
            for hostile in ["%22", "*", "NEAR(a%20b)", "-hola", "(((", "a%20OR%20b", "%22unbalanced", "%5E", "col:hola"] {
                let (code, _, body) = try await client.get("/api/search?q=\(hostile)")
                #expect(code == .ok, "\(hostile): \(code) \(body)")
            }
            // Text without letters or digits has no words: it finds nothing (a valid query, an empty page).
            let (empty, _, nothing) = try await client.get("/api/search?q=***")
            #expect(empty == .ok && (nothing["data"] as? [Any])?.isEmpty == true && nothing["next_cursor"] is NSNull)
        }
    }

    @Test func badParametersAre400NamingTheParameter() async throws {
        let inbox = try TestInbox()
        defer { inbox.remove() }
        try await inbox.run { client async throws in
            for (uri, parameter) in [
                ("/api/contacts?limit=0", "limit"), ("/api/contacts?limit=201", "limit"), ("/api/contacts?limit=x", "limit"),
                ("/api/conversations?cursor=garbage", "cursor"), ("/api/webhooks/deliveries?status=odd", "status"),
                ("/api/conversations/crm/x/messages?before=yesterday", "before"), ("/api/search", "q"),
                ("/api/webhooks/deliveries?include=all", "include"), ("/api/conversations/crm/x/messages?order=up", "order"),
                ("/api/conversations?cursor=12", "cursor"), ("/api/contacts?cursor=", "cursor"), ("/api/search?q=", "q"),
                ("/api/webhooks/stats?provider=", "provider"),
                // Checked even when the text has no words to search for.
                ("/api/search?q=***&contact=\(String(repeating: "a", count: 201))", "contact"), ("/api/search?q=***&cursor=x", "cursor"),
                // Given twice: which one counts would be a guess.
                ("/api/webhooks/deliveries?include=&include=body", "include"), ("/api/conversations?limit=5&limit=6", "limit"),
                ("/api/events?last_event_id=1&last_event_id=2", "last_event_id"),
                // A word-valued parameter given empty is not "absent".
                ("/api/conversations/crm/x/messages?order=", "order"), ("/api/webhooks/deliveries?include=", "include"),
                ("/api/webhooks/deliveries?status=", "status"),
            ] {
                let (status, _, json) = try await client.get(uri)
                #expect(status == .badRequest, "\(uri)")
                #expect((json["message"] as? String)?.contains(parameter) == true, "\(uri): \(json)")
            }
        }
    }

    /// A documented path with a method it does not take is 405 with `Allow`, not 404.
    @Test func aWrongMethodOnAnEndpointIs405WithAllow() async throws {
        let inbox = try TestInbox()
        defer { inbox.remove() }
        try await inbox.run { client async throws in
            for (method, uri, allow) in [(HTTPRequest.Method.delete, "/api/sessions/crm", "GET"), (.trace, "/webhooks/inbox-hub", "POST"),
                                         (.put, "/webhooks/meta", "GET, POST"), (.post, "/api/conversations/crm/x/messages", "GET")] {
                try await client.execute(uri: uri, method: method, headers: [.authorization: "Bearer test-token"]) { response in
                    #expect(response.status == .methodNotAllowed && response.headers[.allow] == allow, "\(method) \(uri)")
                }
            }
            let (status, _, _) = try await client.get("/api/nothing-here")
            #expect(status == .notFound)
        }
    }

    @Test func statsHealthAndDeliveryLog() async throws {
        let inbox = try TestInbox()
        defer { inbox.remove() }
        try await inbox.run { client async throws in
            try await seeded(inbox, client: client)
            #expect(try await client.status(SignedWebhook(json: Payload.envelope("conversation.created", data: "{}"))) == .ok)
            let (_, _, stats) = try await client.get("/api/webhooks/stats")
            let data = try #require(stats["data"] as? [String: Any])
            #expect(stats["success"] as? Bool == true)
            #expect(data["totalDeliveries"] as? Int == 9 && data["successfulDeliveries"] as? Int == 8)
            #expect(data["failedDeliveries"] as? Int == 0 && data["lastDelivery"] is String)
            #expect((data["byEvent"] as? [String: Int])?["message.ack"] == 2)

            let (_, _, health) = try await client.get("/api/webhooks/health")
            #expect((health["data"] as? [String: Any])?["status"] as? String == "healthy")

            let (_, _, log) = try await client.get("/api/webhooks/deliveries?event=message.ack")
            let rows = log["data"] as? [[String: Any]] ?? []
            #expect(rows.count == 2 && rows.allSatisfy { $0["body"] == nil })
            let (_, _, withBody) = try await client.get("/api/webhooks/deliveries?event=message.ack&include=body&limit=1")
            #expect(((withBody["data"] as? [[String: Any]])?.first?["body"] as? String)?.contains("message.ack") == true)
            #expect(withBody["next_cursor"] is String)
        }
    }

    @Test func signatureCheckEndpointExplainsAndStoresNothing() async throws {
        let inbox = try TestInbox()
        defer { inbox.remove() }
        try await inbox.run { client async throws in
            func check(_ webhook: SignedWebhook) async throws -> [String: Any] {
                var headers = webhook.headers
                headers[.authorization] = "Bearer test-token"
                return try await client.execute(uri: "/api/webhooks/test/signature", method: .post, headers: headers,
                                                body: ByteBuffer(bytes: webhook.body)) { response in
                    #expect(response.status == .ok)
                    let json = (try? JSONSerialization.jsonObject(with: Data(buffer: response.body))) as? [String: Any]
                    return json?["data"] as? [String: Any] ?? [:]
                }
            }
            let good = try await check(SignedWebhook(json: Payload.received(key: "T1")))
            #expect(good["valid"] as? Bool == true && good["error"] is NSNull)
            let bad = try await check(SignedWebhook(json: Payload.received(key: "T2"), secret: "wrong"))
            #expect(bad["valid"] as? Bool == false && bad["error"] as? String == "invalid_signature")
        }
        #expect(try inbox.count("webhook_deliveries") == 0)
        #expect(try inbox.count("messages") == 0)
    }

    @Test func metricsCountDeliveriesRejectionsAndQueries() async throws {
        let inbox = try TestInbox()
        defer { inbox.remove() }
        try await inbox.run { client async throws in
            #expect(try await client.status(SignedWebhook(json: Payload.received(key: "M1"))) == .ok)
            let duplicate = SignedWebhook(json: Payload.sent(key: "M2"))
            #expect(try await client.status(duplicate) == .ok)
            #expect(try await client.status(duplicate) == .ok)
            #expect(try await client.status(SignedWebhook(json: Payload.received(key: "M3"), secret: "bad")) == .unauthorized)
            _ = try await client.get("/api/conversations")
            let (unauthorized, _, _) = try await client.get("/metrics", token: nil)
            #expect(unauthorized == .unauthorized)
            try await client.execute(uri: "/metrics", method: .get, headers: [.authorization: "Bearer test-token"]) { response in
                #expect(response.status == .ok)
                let text = String(buffer: response.body)
                #expect(text.contains(#"inboxlite_webhook_deliveries_total{event="message.received",outcome="applied",provider="inbox-hub"} 1"#))
                #expect(text.contains(#"inboxlite_webhook_deliveries_total{event="message.sent",outcome="duplicate",provider="inbox-hub"} 1"#))
                #expect(text.contains(#"inboxlite_webhook_rejected_total{reason="invalid_signature"} 1"#))
                #expect(text.contains(#"inboxlite_query_seconds_count{endpoint="/api/conversations",status="200"} 1"#))
                #expect(text.contains("inboxlite_writer_batch_size_count"))
                #expect(text.contains("inboxlite_writer_queue_depth 0"))
                #expect(text.contains("inboxlite_sse_clients 0"))
                // Labelled with the engine under test (the PostgreSQL run of this suite says postgresql).
                // On PostgreSQL the live feed reads the log once a second, so a read may be running.
                let engine = TestInbox.engine.rawValue
                let idle = TestInbox.onSQLite ? " 0" : ""
                #expect(text.contains(#"inboxlite_db_pool_in_use{engine="\#(engine)"}\#(idle)"#)
                        && text.contains(#"inboxlite_db_pool_waiting{engine="\#(engine)"}\#(idle)"#))
            }
        }
    }
}
