import Foundation
import HTTPTypes
import HummingbirdTesting
import InboxEvents
import InboxQuery
@testable import InboxStore
import NIOCore
import WebhookReceiver
import Testing

/// One InboxLite, two clients: "acme" (one Inbox Hub session) and "beta" (an Inbox Hub session and
/// a WAHA one). Each client's token sees its own sessions and nothing of the other's, through
/// every endpoint `openapi.yaml` documents, the event stream and the admin routes.
@Suite("Scoped tokens: each client sees only its own sessions")
struct ScopedTokenTests {
    static let acmeCustomer = "34600000001@c.us"
    static let betaCustomer = "34600000002@c.us"
    /// Text that only beta's data contains: none of it may reach acme's token.
    static let betaMarkers = ["beta", "34600000002", "banana", "120363000000000001", "Pedidos Centro"]
    static let acmeMarkers = ["acme", "apple"]

    /// What the two clients' gateways sent: messages, a reply, acks, QR codes, a group, an
    /// ignored event, and the same customer writing to both (two contacts, one per session).
    static func deliverTwoClients(_ client: some TestClientProtocol) async throws {
        let qr = #"{"qrCode":"data:image/png;base64,\#(SampleWebhooks.onePixelPNG)","expiresAt":"2099-01-01T00:00:00.000Z"}"#
        let bodies: [(String, String)] = [
            ("acme", Payload.received(key: "A1", from: acmeCustomer, body: "acme apple order", session: "acme")),
            ("acme", Payload.sent(key: "A2", to: acmeCustomer, body: "apple on its way", session: "acme")),
            ("acme", Payload.ack("true_\(acmeCustomer)_A2_out", 3, session: "acme")),
            ("acme", Payload.envelope("session.qr", session: "acme", data: qr)),
            ("acme", Payload.envelope("conversation.created", session: "acme", data: "{}")),
            ("beta", Payload.received(key: "B1", from: betaCustomer, body: "beta banana order", session: "beta")),
            ("beta", Payload.received(key: "B2", from: acmeCustomer, body: "banana for acme's customer too", session: "beta")),
            ("beta", Payload.ack("false_\(betaCustomer)_B1_in", 2, session: "beta")),
            ("beta", Payload.envelope("session.qr", session: "beta", data: qr)),
            ("beta", Payload.envelope("conversation.created", session: "beta", data: "{}")),
        ]
        for (session, body) in bodies {
            #expect(try await client.status(SignedWebhook(json: body, session: session)) == .ok)
        }
        let group = IdentityTests.wahaJoin.replacingOccurrences(of: #""session":"default""#, with: #""session":"beta""#)
        #expect(try await client.post(GatewayWebhook(.waha, group)).0 == .ok)
    }

    /// A new token from the start token (or `by`), answering the token itself.
    static func token(_ client: some TestClientProtocol, _ name: String, role: String = "read", sessions: [String]?,
                      by creator: String = "test-token") async throws -> String {
        var body: [String: Any] = ["name": name, "role": role]
        if let sessions { body["sessions"] = sessions }
        let json = String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self)
        let (status, answer) = try await TokenTests.call(client, .post, "/api/admin/tokens", token: creator, json: json)
        #expect(status == .created, "\(answer)")
        return try #require((answer["data"] as? [String: Any])?["token"] as? String)
    }

    /// GET `uri` with `token`: status and body text.
    static func get(_ client: some TestClientProtocol, _ uri: String, token: String) async throws -> (HTTPResponse.Status, String) {
        try await client.execute(uri: uri, method: .get, headers: [.authorization: "Bearer \(token)"]) { response in
            (response.status, String(buffer: response.body))
        }
    }

    /// Every operation `openapi.yaml` documents, read as the service reads it (`OpenAPIDocument`).
    static func documentedOperations() throws -> [(path: String, method: String)] {
        let document = try Data(contentsOf: TestInbox.migrations.deletingLastPathComponent().appendingPathComponent("openapi.yaml"))
        return OpenAPIDocument.operations(in: Array(document)).flatMap { operation in operation.methods.map { (operation.path, $0) } }
    }

    /// Whether a route answers without a token (its answer to none is not a 401).
    static func isOpen(_ client: some TestClientProtocol, _ path: String) async throws -> Bool {
        try await client.execute(uri: path, method: .get) { $0.status != .unauthorized }
    }

    /// Every documented GET, with the other client's session, chat and message in the path and
    /// its session as a filter: acme's token gets 404 or an answer without a trace of beta, while
    /// beta's own token finds what it asked for (so each case can fail).
    @Test func everyEndpointHidesAnotherClientsData() async throws {
        let inbox = try GatewayTests.inbox()
        defer { inbox.remove() }
        try await inbox.run { client in
            try await Self.deliverTwoClients(client)
            let acme = try await Self.token(client, "acme-crm", sessions: ["acme"])
            let beta = try await Self.token(client, "beta-crm", sessions: ["beta", "waha:beta"])
            let betaMessage = try #require(try inbox.rows("SELECT message_id FROM messages WHERE session_id = 'beta' AND wa_key_id = 'B1'").first?.string(0))

            // The URIs that ask for beta's things, per documented path.
            let cases: [String: [String]] = [
                "/api/sessions": ["/api/sessions"],
                "/api/sessions/{sessionId}": ["/api/sessions/beta", "/api/sessions/waha:beta"],
                "/api/sessions/{sessionId}/qr.png": ["/api/sessions/beta/qr.png"],
                "/api/sessions/{sessionId}/events": ["/api/sessions/beta/events"],
                "/api/groups": ["/api/groups", "/api/groups?session=waha:beta"],
                "/api/contacts": ["/api/contacts", "/api/contacts?session=beta", "/api/contacts?q=34600000002"],
                "/api/contacts/{whatsappId}": ["/api/contacts/\(Self.betaCustomer)", "/api/contacts/\(Self.acmeCustomer)?session=beta"],
                "/api/conversations": ["/api/conversations", "/api/conversations?session=beta"],
                "/api/conversations/{sessionId}/{whatsappId}/messages": ["/api/conversations/beta/\(Self.betaCustomer)/messages",
                                                                         "/api/conversations/beta/\(Self.acmeCustomer)/messages"],
                "/api/messages/{messageId}": ["/api/messages/\(betaMessage)"],
                "/api/search": ["/api/search?q=banana", "/api/search?q=order&session=beta"],
                "/api/webhooks/stats": ["/api/webhooks/stats"],
                "/api/webhooks/health": ["/api/webhooks/health"],
                "/api/webhooks/deliveries": ["/api/webhooks/deliveries?include=body", "/api/webhooks/deliveries?session=beta&include=body"],
            ]
            // The stream, admin routes and metrics have their own tests below; the signature check
            // (a POST) is tried after this loop.
            let elsewhere: Set<String> = ["/api/events", "/api/inbox-events", "/api/admin/replay", "/api/admin/tokens", "/api/admin/tokens/{token}",
                                          "/metrics", "/api/forwarding", "/api/forwarding/dead-letters", "/api/admin/forwarding/retry"]
            for operation in try Self.documentedOperations() where operation.method == "get" {
                guard !elsewhere.contains(operation.path), try await !Self.isOpen(client, operation.path) else { continue }
                let uris = try #require(cases[operation.path], "no scoping case for GET \(operation.path): add one")
                for uri in uris {
                    let (status, body) = try await Self.get(client, uri, token: acme)
                    #expect(status == .notFound || status == .ok, "\(uri): \(status)")
                    if status == .ok {
                        for marker in Self.betaMarkers {
                            #expect(!body.contains(marker), "acme's token saw \(marker) in \(uri): \(body.prefix(300))")
                        }
                    }
                    // Beta's own token gets beta's data from the same URI.
                    let (own, ownBody) = try await Self.get(client, uri, token: beta)
                    #expect(own == .ok, "\(uri) with beta's token: \(own)")
                    let counts = ["/api/webhooks/stats", "/api/webhooks/health"].contains(operation.path) || uri.hasSuffix("qr.png")
                    #expect(counts || Self.betaMarkers.contains(where: ownBody.contains), "\(uri) with beta's token: \(ownBody.prefix(300))")
                }
            }

            // Another session's object answers exactly as a missing one.
            let (hidden, hiddenBody) = try await Self.get(client, "/api/sessions/beta", token: acme)
            let (missing, missingBody) = try await Self.get(client, "/api/sessions/gamma", token: acme)
            #expect(hidden == .notFound && missing == .notFound
                    && hiddenBody.replacingOccurrences(of: "beta", with: "gamma") == missingBody)
            let (_, betaMessageBody) = try await Self.get(client, "/api/messages/\(betaMessage)", token: acme)
            let (_, noMessageBody) = try await Self.get(client, "/api/messages/\(betaMessage)x", token: acme)
            #expect(betaMessageBody.replacingOccurrences(of: betaMessage, with: betaMessage + "x") == noMessageBody)

            // Lists hold exactly the token's own sessions; counts count only them.
            let (_, sessions) = try await Self.get(client, "/api/sessions", token: beta)
            let listed = try #require((try JSONSerialization.jsonObject(with: Data(sessions.utf8)) as? [String: Any])?["data"] as? [[String: Any]])
            #expect(listed.compactMap { $0["session_id"] as? String }.sorted() == ["beta", "waha:beta"])
            let (_, conversations) = try await Self.get(client, "/api/conversations", token: acme)
            #expect(conversations.components(separatedBy: "\"session_id\":\"acme\"").count - 1 == 1 && !conversations.contains("beta"))
            for (token, sessions) in [(acme, "'acme'"), (beta, "'beta', 'waha:beta'"), ("test-token", "'acme', 'beta', 'waha:beta'")] {
                let (_, stats) = try await Self.get(client, "/api/webhooks/stats", token: token)
                let data = try #require((try JSONSerialization.jsonObject(with: Data(stats.utf8)) as? [String: Any])?["data"] as? [String: Any])
                let expected = try inbox.count("webhook_deliveries", where: "session_id IN (\(sessions))")
                #expect(data["totalDeliveries"] as? Int == expected, "\(sessions): \(data)")
                #expect(data["ignoredDeliveries"] as? Int == (sessions.contains("acme") ? 1 : 0) + (sessions.contains("'beta'") ? 1 : 0))
                let (_, health) = try await Self.get(client, "/api/webhooks/health", token: token)
                let healthData = try #require((try JSONSerialization.jsonObject(with: Data(health.utf8)) as? [String: Any])?["data"] as? [String: Any])
                #expect(healthData["total_deliveries"] as? Int == expected)
                #expect((healthData["expired_pending_acks"] != nil) == (token == "test-token"), "a global counter only for every session")
            }
            // The signature check answers a body of another client's session with one refusal,
            // whatever that session is; the client's own sessions are checked as usual.
            for (token, session, valid) in [(acme, "beta", false), (acme, "gamma", false), (beta, "beta", true), (acme, "acme", true)] {
                let webhook = SignedWebhook(json: Payload.received(key: "S1", session: session), session: session)
                var headers = webhook.headers
                headers[.authorization] = "Bearer \(token)"
                let verdict = try await client.execute(uri: "/api/webhooks/test/signature", method: .post, headers: headers,
                                                       body: ByteBuffer(bytes: webhook.body)) { String(buffer: $0.body) }
                #expect(verdict.contains("\"valid\":\(valid)") && valid != verdict.contains("session_not_allowed"), "\(session): \(verdict)")
            }
            // A token of every session still sees both clients.
            let (_, everything) = try await Self.get(client, "/api/conversations", token: "test-token")
            #expect(everything.contains("\"session_id\":\"acme\"") && everything.contains("\"session_id\":\"beta\""))
        }
    }

    /// The stream and its replay after `Last-Event-ID` carry only the token's sessions, live too.
    @Test(.timeLimit(.minutes(1))) func theEventStreamCarriesOnlyTheTokensSessions() async throws {
        let inbox = try GatewayTests.inbox()
        defer { inbox.remove() }
        let acme = try await inbox.run(.ahc(.http)) { client in
            try await Self.deliverTwoClients(client)
            let acme = try await Self.token(client, "acme-crm", sessions: ["acme"])
            let acmeEvents = try inbox.rows(
                "SELECT id FROM webhook_deliveries WHERE session_id = 'acme' AND status = 'applied' AND inbox_event IS NOT NULL ORDER BY id"
            ).compactMap { $0.int(0) }
            // Replay from the start: acme's events, then (live) the next acme event, skipping beta's.
            async let stream = Self.get(client, "/api/events?last_event_id=0&max_events=\(acmeEvents.count + 1)", token: acme)
            try await Task.sleep(for: .milliseconds(300))
            let betaLive = Payload.received(key: "B9", from: Self.betaCustomer, body: "beta banana live", session: "beta")
            #expect(try await client.status(SignedWebhook(json: betaLive, session: "beta")) == .ok)
            let acmeLive = Payload.received(key: "A9", from: Self.acmeCustomer, body: "acme apple live", session: "acme")
            #expect(try await client.status(SignedWebhook(json: acmeLive, session: "acme")) == .ok)
            let (status, body) = try await stream
            let liveId = try #require(try inbox.rows("SELECT id FROM webhook_deliveries WHERE body LIKE '%A9%'").first?.int(0))
            #expect(status == .ok)
            let ids = body.split(separator: "\n").compactMap { $0.hasPrefix("id: ") ? Int($0.dropFirst(4)) : nil }
            #expect(ids == acmeEvents + [liveId])
            for marker in Self.betaMarkers { #expect(!body.contains(marker), "\(marker) in acme's stream") }

            // The normalised stream, the same way: acme's events only, every one of them.
            let acmeSeqs = try inbox.rows("SELECT seq FROM inbox_events WHERE session_id = 'acme' ORDER BY seq").compactMap { $0.int(0) }
            let (inboxStatus, inboxBody) = try await Self.get(client, "/api/inbox-events?last_event_id=0&max_events=\(acmeSeqs.count)", token: acme)
            #expect(inboxStatus == .ok && !acmeSeqs.isEmpty)
            #expect(inboxBody.split(separator: "\n").compactMap { $0.hasPrefix("id: ") ? Int($0.dropFirst(4)) : nil } == acmeSeqs)
            for marker in Self.betaMarkers { #expect(!inboxBody.contains(marker), "\(marker) in acme's normalised stream") }
            return acme
        }
        // Asking for beta's session on acme's token is a stream with nothing in it, replay included.
        try await inbox.live { port, _ in
            let stream = try RawHTTPConnection(port: port)
            stream.send(AuthenticationTests.get("/api/events?last_event_id=0&session=beta", token: acme))
            // The head may be slow under load (a parallel suite on PostgreSQL); then 1.5 s for an event.
            _ = await stream.read(timeout: 10) { $0.contains("\r\n\r\n") }
            let seen = await stream.read(timeout: 1.5) { $0.contains("id: ") }
            #expect(seen.hasPrefix("HTTP/1.1 200") && !seen.contains("id: "), "\(seen)")
        }
    }

    /// A read token is refused every admin route (from `openapi.yaml`, so a new one is covered),
    /// and an admin token limited to some sessions is refused `/metrics`.
    @Test func aReadTokenIsRefusedEveryAdminRouteAndAScopedAdminTheMetrics() async throws {
        let inbox = try TestInbox()
        defer { inbox.remove() }
        try await inbox.run { client in
            let reader = try await Self.token(client, "reader", sessions: ["acme"])
            let everyReader = try await Self.token(client, "every-reader", sessions: nil)
            let scopedAdmin = try await Self.token(client, "acme-admin", role: "admin", sessions: ["acme"])
            let adminRoutes = try Self.documentedOperations().filter { $0.path.hasPrefix("/api/admin/") || $0.path == "/metrics" }
            #expect(adminRoutes.count == 6)
            for route in adminRoutes {
                let uri = route.path.replacingOccurrences(of: "{token}", with: "reader") + (route.path.hasSuffix("replay") ? "?status=failed" : "")
                let method = HTTPRequest.Method(route.method.uppercased())!
                for token in [reader, everyReader] {
                    let (status, body) = try await TokenTests.call(client, method, uri, token: token, json: method == .post ? #"{"name":"x"}"# : nil)
                    #expect(status == .forbidden && body["error"] as? String == "forbidden", "\(method) \(uri)")
                }
            }
            // Forwarding's standing and re-sending span every session: admin tokens of every session only.
            for (method, uri) in [(HTTPRequest.Method.get, "/metrics"), (.get, "/api/forwarding"), (.get, "/api/forwarding/dead-letters"),
                                  (.post, "/api/admin/forwarding/retry")] {
                for token in [reader, everyReader, scopedAdmin] {
                    let (status, refusal) = try await TokenTests.call(client, method, uri, token: token)
                    #expect(status == .forbidden && (token != scopedAdmin || (refusal["message"] as? String ?? "").contains("every session")),
                            "\(method) \(uri)")
                }
            }
            #expect(try await Self.get(client, "/metrics", token: "test-token").0 == .ok)
        }
    }

    /// An admin token of some sessions replays only those, and makes, lists and revokes only
    /// tokens within them: it can never mint a token that reads another session.
    @Test func aScopedAdminStaysWithinItsSessions() async throws {
        let inbox = try GatewayTests.inbox()
        defer { inbox.remove() }
        try await inbox.run { client in
            try await Self.deliverTwoClients(client)
            let admin = try await Self.token(client, "acme-admin", role: "admin", sessions: ["acme"])
            _ = try await Self.token(client, "beta-crm", sessions: ["beta"])
            _ = try await Self.token(client, "both", sessions: ["acme", "beta"])

            // Replay: only acme's ignored delivery.
            let (replayed, summary) = try await TokenTests.call(client, .post, "/api/admin/replay?status=ignored", token: admin)
            #expect(replayed == .ok && (summary["data"] as? [String: Any])?["replayed"] as? Int == 1)

            // Minting: within its sessions (its own by default), never beyond them.
            for sessions in [["beta"], ["acme", "beta"]] {
                let body = String(decoding: try JSONSerialization.data(withJSONObject: ["name": "sneaky", "sessions": sessions]), as: UTF8.self)
                let (status, answer) = try await TokenTests.call(client, .post, "/api/admin/tokens", token: admin, json: body)
                #expect(status == .forbidden && answer["error"] as? String == "forbidden", "\(sessions)")
            }
            let (inherited, made) = try await TokenTests.call(client, .post, "/api/admin/tokens", token: admin, json: #"{"name":"acme-dashboard"}"#)
            #expect(inherited == .created && (made["data"] as? [String: Any])?["sessions"] as? [String] == ["acme"])
            let (empty, _) = try await TokenTests.call(client, .post, "/api/admin/tokens", token: admin, json: #"{"name":"none","sessions":[]}"#)
            #expect(empty == .badRequest)
            #expect(try inbox.count("api_tokens", where: "name IN ('sneaky', 'none')") == 0)

            // Listing: only tokens within acme (not beta's, not the one that also sees beta).
            let (_, list) = try await TokenTests.call(client, .get, "/api/admin/tokens", token: admin)
            let names = (list["data"] as? [[String: Any]])?.compactMap { $0["name"] as? String }.sorted()
            #expect(names == ["acme-admin", "acme-dashboard"])
            let (_, all) = try await TokenTests.call(client, .get, "/api/admin/tokens", token: "test-token")
            let every = try #require((all["data"] as? [[String: Any]])?.first { $0["name"] as? String == "both" })
            #expect(every["sessions"] as? [String] == ["acme", "beta"])

            // Revoking: another client's token is not found, exactly like a missing one.
            let (other, otherBody) = try await TokenTests.call(client, .delete, "/api/admin/tokens/beta-crm", token: admin)
            let (missing, missingBody) = try await TokenTests.call(client, .delete, "/api/admin/tokens/gamma-crm", token: admin)
            #expect(other == .notFound && missing == .notFound
                    && (otherBody["message"] as? String)?.replacingOccurrences(of: "beta", with: "gamma") == missingBody["message"] as? String)
            #expect(try await TokenTests.call(client, .delete, "/api/admin/tokens/acme-dashboard", token: admin).0 == .ok)
            #expect(try inbox.count("api_tokens", where: "revoked_at IS NOT NULL") == 1)
        }
    }

    /// A token that expires while its event stream is open: the stream ends within a second or
    /// two of the expiry, saying why, and the next request is 401 `token_expired`.
    @Test(.timeLimit(.minutes(1))) func anOpenStreamEndsWhenItsTokenExpires() async throws {
        let inbox = try TestInbox()
        defer { inbox.remove() }
        try await inbox.run { _ in }  // creates and migrates the database
        let expiry = Date().addingTimeInterval(10)  // room for a slow start (a new PostgreSQL database, migrations)
        let (_, token) = try inbox.withWriter {
            try $0.createToken(name: "brief", role: .read, scope: SessionScope(sessions: ["acme"]), expiresAt: expiry)
        }
        try await inbox.live { port, _ in
            let stream = try RawHTTPConnection(port: port)
            stream.send(AuthenticationTests.get("/api/events", token: token))
            let opened = await stream.read(timeout: 3) { $0.contains("\r\n\r\n") }
            #expect(opened.hasPrefix("HTTP/1.1 200"), "the stream opens while the token is valid")
            let ended = await stream.read(timeout: 14) { $0.contains("event: unauthorized") }
            #expect(ended.contains("event: unauthorized"))
            #expect(Date().timeIntervalSince(expiry) < 3, "ended within about a second of the expiry")
            let (status, body) = try await RawHTTPConnection.request(port: port, AuthenticationTests.get("/api/sessions", token: token))
            #expect(status == 401 && body.contains("token_expired"))
        }
    }
}
