import Foundation
import HTTPTypes
import HummingbirdTesting
@testable import InboxForwarding
import InboxLite
import Synchronization
import Testing

/// Forwarding the inbox's events to a CRM (a real receiver on a real socket), on the engine under
/// test: dead letters and their re-sending, filters, redirects, a new target, stopping with
/// attempts in flight. `scripts/forwarding_test.py` adds signature checks by an independent
/// library, a receiver outage and kill -9.
@Suite("Forwarding to a CRM")
struct ForwardingTests {
    static let chatA = "34600000009@c.us", chatB = "34600000008@c.us"

    private func forwarding(_ client: any TestClientProtocol) async throws -> [String: Any] {
        let (status, _, json) = try await client.get("/api/forwarding")
        #expect(status == .ok)
        return (json["data"] as? [[String: Any]])?.first ?? [:]
    }

    private func until(seconds: Double = 10, _ condition: () async throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(25))
        }
        return try await condition()
    }

    @Test(.timeLimit(.minutes(2))) func refusedEventsBecomeDeadLettersThatCanBeResent() async throws {
        let accepting = Mutex(false)
        let receiver = try await TestReceiver.start { event in
            (event.chat == Self.chatA && !accepting.withLock { $0 } ? .badRequest : .ok, [:], nil)
        }
        defer { receiver.stop() }
        var inbox = try TestInbox()
        defer { inbox.remove() }
        inbox.configuration.forwardTargets = [try receiver.target()]
        try await inbox.run { client async throws in
            for (key, chat) in [("X1", Self.chatA), ("X2", Self.chatA), ("Y1", Self.chatB)] {
                #expect(try await client.status(SignedWebhook(json: Payload.received(key: key, from: chat))) == .ok)
            }
            // X1 is refused 5 times, then dead; X2, which waited behind it, the same; Y1 goes through.
            // Ten attempts through the ledger: under the parallel PostgreSQL suite that took over 10 s once.
            #expect(try await until(seconds: 30) { try await forwarding(client)["dead_letters"] as? Int == 2 })
            #expect(receiver.attempts(1).count == 5 && receiver.attempts(2).count == 5, "five attempts each")
            #expect(receiver.attempts(3).count == 1, "the other chat is not held back")
            let order = receiver.received.filter { $0.chat == Self.chatA }.map(\.seq)
            #expect(order == [1, 1, 1, 1, 1, 2, 2, 2, 2, 2], "the chat's second event waits until the first is given up")
            #expect(Set(receiver.received.filter { $0.seq == 1 }.map(\.webhookId)).count == 1, "the same webhook-id on every attempt")
            let state = try await forwarding(client)
            #expect(state["waiting_for_retry"] as? Int == 0 && state["dead_ever"] as? Int == 2 && state["delivered"] as? Int == 1)
            #expect((state["last_error"] as? String)?.contains("answered 400") == true)

            let (status, _, page) = try await client.get("/api/forwarding/dead-letters")
            #expect(status == .ok)
            let dead = page["data"] as? [[String: Any]] ?? []
            #expect(dead.map { $0["seq"] as? Int } == [1, 2] && dead.allSatisfy { $0["attempts"] as? Int == 5 && $0["last_status"] as? Int == 400 })
            #expect(dead.first?["type"] as? String == "message.received" && dead.first?["chat"] as? String == Self.chatA)
            try await client.execute(uri: "/metrics", method: .get, headers: [.authorization: "Bearer test-token"]) { response in
                let text = String(buffer: response.body)
                #expect(text.contains(#"inboxlite_forwarding_dead_letters_total{target="default"} 2"#))
                #expect(text.contains(#"inboxlite_forwarding_attempts_total{outcome="failed",target="default"} 10"#))
                #expect(text.contains(#"inboxlite_forwarding_attempts_total{outcome="delivered",target="default"} 1"#))
                #expect(text.contains(#"inboxlite_forwarding_backlog{target="default"} 0"#))
                #expect(text.contains(#"inboxlite_forwarding_attempt_seconds_count{target="default"} 11"#))
            }

            // Re-sent by hand once the CRM is fixed: both arrive, in their order.
            accepting.withLock { $0 = true }
            let (unknown, _) = try await client.postAdmin("/api/admin/forwarding/retry?target=nobody")
            #expect(unknown == .notFound)
            let (resent, answer) = try await client.postAdmin("/api/admin/forwarding/retry?target=default")
            #expect(resent == .ok && answer.contains(#""resent":2"#))
            #expect(try await receiver.waitUntil { $0.filter { $0.chat == Self.chatA }.count == 12 })
            #expect(receiver.received.filter { $0.chat == Self.chatA }.suffix(2).map(\.seq) == [1, 2])
            #expect(try await until { try await forwarding(client)["delivered"] as? Int == 3 })
            let after = try await forwarding(client)
            #expect(after["dead_letters"] as? Int == 0 && after["backlog"] as? Int == 0 && after["dead_ever"] as? Int == 2)
        }
    }

    @Test(.timeLimit(.minutes(1))) func eachTargetGetsItsSessionsAndEventTypes() async throws {
        let receiver = try await TestReceiver.start()
        defer { receiver.stop() }
        var inbox = try TestInbox()
        defer { inbox.remove() }
        // From a config file, as --forward-config reads it (one secret inline, one in a file).
        let secretFile = inbox.folder.appendingPathComponent("acks.whsec")
        try TestReceiver.secret.write(to: secretFile, atomically: true, encoding: .utf8)
        let config = inbox.folder.appendingPathComponent("forwarding.json")
        try #"""
        {"targets": [
          {"name": "sales", "url": "\#(receiver.url.replacingOccurrences(of: "/crm/hook", with: "/sales"))", "secret": "\#(TestReceiver.secret)", "sessions": ["sales"]},
          {"name": "acks", "url": "\#(receiver.url.replacingOccurrences(of: "/crm/hook", with: "/acks"))", "secret_file": "\#(secretFile.path)", "events": ["message.ack"]}
        ]}
        """#.write(to: config, atomically: true, encoding: .utf8)
        inbox.configuration.forwardTargets = try ForwardTarget.targets(configFile: config.path) { try String(contentsOfFile: $0, encoding: .utf8) }
        try await inbox.run { client async throws in
            #expect(try await client.status(SignedWebhook(json: Payload.received(key: "S1", session: "sales"), session: "sales")) == .ok)
            #expect(try await client.status(SignedWebhook(json: Payload.received(key: "C1"))) == .ok)
            #expect(try await client.status(SignedWebhook(json: Payload.sent(key: "C2"))) == .ok)
            #expect(try await client.status(SignedWebhook(json: Payload.ack("C2", 3))) == .ok)
            #expect(try await receiver.waitUntil { $0.count >= 2 })
            try await Task.sleep(for: .milliseconds(300))
            let sales = receiver.received.filter { $0.path == "/sales" }, acks = receiver.received.filter { $0.path == "/acks" }
            #expect(sales.map(\.type) == ["message.received"] && sales.first?.session == "sales")
            #expect(acks.map(\.type) == ["message.ack"] && acks.first?.session == "crm")
            let ack = acks.first?.object ?? [:]
            #expect((ack["ack"] as? [String: Any])?["status"] as? String == "read")
            #expect((ack["message"] as? [String: Any])?["message_id"] as? String == "true_34612345678@c.us_C2_out")
            let (_, _, json) = try await client.get("/api/forwarding")
            let names = (json["data"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
            #expect(names == ["sales", "acks"])
            let (missing, _, _) = try await client.get("/api/forwarding/dead-letters")
            #expect(missing == .badRequest, "with several targets, dead letters need target")
        }
    }

    @Test(.timeLimit(.minutes(1))) func redirectsAreNotFollowed() async throws {
        let receiver = try await TestReceiver.start { event in
            event.path == "/crm/hook" ? (.temporaryRedirect, [.location: "/elsewhere"], nil) : (.ok, [:], nil)
        }
        defer { receiver.stop() }
        var inbox = try TestInbox()
        defer { inbox.remove() }
        inbox.configuration.forwardTargets = [try receiver.target(firstRetryPause: .seconds(30))]
        try await inbox.run { client async throws in
            #expect(try await client.status(SignedWebhook(json: Payload.received(key: "R1"))) == .ok)
            #expect(try await until { (try await forwarding(client)["last_error"] as? String)?.contains("redirects are not followed") == true })
            try await Task.sleep(for: .milliseconds(200))
            #expect(receiver.received.map(\.path) == ["/crm/hook"], "nothing was sent where the redirect pointed")
            #expect(try await forwarding(client)["waiting_for_retry"] as? Int == 1)
        }
    }

    @Test(.timeLimit(.minutes(1))) func aNewTargetGetsEventsFromNowOn() async throws {
        let receiver = try await TestReceiver.start()
        defer { receiver.stop() }
        var inbox = try TestInbox()
        defer { inbox.remove() }
        try await inbox.run { client async throws in
            #expect(try await client.status(SignedWebhook(json: Payload.received(key: "OLD1"))) == .ok)
        }
        inbox.configuration.forwardTargets = [try receiver.target()]
        try await inbox.run { client async throws in
            #expect(try await client.status(SignedWebhook(json: Payload.received(key: "NEW1"))) == .ok)
            #expect(try await receiver.waitUntil { !$0.isEmpty })
            try await Task.sleep(for: .milliseconds(200))
            #expect(receiver.received.map(\.seq) == [2], "history before the target existed is not sent")
        }
    }

    @Test(.timeLimit(.minutes(1))) func aStopDoesNotWaitForASlowTargetAndNothingIsLost() async throws {
        let first = Mutex(true)
        let receiver = try await TestReceiver.start { _ in
            // The first attempt hangs (a CRM that stopped answering); later ones are answered.
            (.ok, [:], first.withLock { value in defer { value = false }; return value } ? .seconds(30) : nil)
        }
        defer { receiver.stop() }
        var inbox = try TestInbox()
        defer { inbox.remove() }
        inbox.configuration.forwardTargets = [try receiver.target(timeout: .seconds(60))]
        let took = try await inbox.live { port, stop in
            let webhook = SignedWebhook(json: Payload.received(key: "H1")).rawRequest(path: "/webhooks/inbox-hub")
            #expect(try await RawHTTPConnection.request(port: port, webhook).0 == 200)
            #expect(try await receiver.waitUntil { !$0.isEmpty })
            return try await stop()
        }
        // The hanging attempt would take 30 s; the stop does not wait for it. (On PostgreSQL, under
        // the parallel suite, closing the database connections alone once took 5.4 s.)
        #expect(took < (TestInbox.onSQLite ? .seconds(5) : .seconds(15)), "stopped in \(took) with an attempt hanging")
        try await inbox.run { _ async throws in
            #expect(try await receiver.waitUntil { $0.count >= 2 }, "the abandoned attempt is sent again after the restart")
        }
        #expect(Set(receiver.received.map(\.seq)) == [1])
    }

    /// A stored message that learns its text or its file later is `message.updated`; votes on a
    /// stored poll are `message.poll_vote` with the votes; a copy that repeats nothing is no event.
    @Test(.timeLimit(.minutes(1))) func laterKnowledgeAndPollVotesAreEvents() async throws {
        let receiver = try await TestReceiver.start()
        defer { receiver.stop() }
        var inbox = try GatewayTests.inbox()
        defer { inbox.remove() }
        inbox.configuration.forwardTargets = [try receiver.target()]
        let jid = "5511988887777@s.whatsapp.net"
        let poll = #"{"event":"messages.upsert","instance":"acme-01","data":{"key":{"remoteJid":"\#(jid)","fromMe":true,"id":"3EBPOLL"},"message":{"pollCreationMessageV3":{"name":"Mesa?","options":[{"optionName":"Sim"},{"optionName":"Não"}],"selectableOptionsCount":1}},"messageType":"pollCreationMessageV3","messageTimestamp":1767225600}}"#
        let votes = #"{"event":"messages.update","instance":"acme-01","data":{"keyId":"3EBPOLL","remoteJid":"\#(jid)","fromMe":true,"status":"DELETED","pollUpdates":[{"name":"Sim","voters":["\#(jid)"]},{"name":"Não","voters":[]}]}}"#
        let text = #"{"event":"messages.upsert","instance":"acme-01","data":{"key":{"remoteJid":"\#(jid)","fromMe":false,"id":"3EBTEXT"},"message":{"conversation":"pedido 42"},"messageType":"conversation","messageTimestamp":1767225601}}"#
        let sameAgain = text.replacingOccurrences(of: #""messageTimestamp":1767225601"#, with: #""messageTimestamp":1767225601,"status":"DELIVERY_ACK""#)
        let newText = text.replacingOccurrences(of: "pedido 42", with: "pedido 43")
        try await GatewayTests.deliver([poll, votes, text, sameAgain, newText].map { GatewayWebhook(.evolution, $0) }, into: inbox)
        let events = try inbox.rows("SELECT type, detail FROM inbox_events ORDER BY seq").map { ($0.string(0) ?? "", $0.string(1)) }
        #expect(events.map(\.0) == ["message.sent", "message.poll_vote", "message.received", "message.updated"])
        let vote = try #require(events.first { $0.0 == "message.poll_vote" }?.1)
        #expect(vote.contains(#""voter":"5511988887777@c.us""#) && vote.contains(#""options":["Sim"]"#) && vote.contains(#""complete":true"#), "\(vote)")
    }

    @Test func settingsThatCannotWorkAreRefusedWithoutShowingSecrets() throws {
        let secret = TestReceiver.secret
        func refusal(_ make: () throws -> ForwardTarget) -> String {
            do {
                _ = try make()
                return ""
            } catch {
                return "\(error)"
            }
        }
        #expect(refusal { try ForwardTarget(name: "default", url: "ftp://crm.example/x", secret: secret) }.contains("http or https"))
        #expect(refusal { try ForwardTarget(name: "default", url: "https://user:pw@crm.example/x", secret: secret) }.contains("without credentials"))
        #expect(refusal { try ForwardTarget(name: "default", url: "https://crm.example/x", secret: "hunter2") }.contains("whsec_"))
        #expect(refusal { try ForwardTarget(name: "Bad Name", url: "https://crm.example/x", secret: secret) }.contains("a-z"))
        #expect(refusal { try ForwardTarget(name: "x", url: "https://crm.example/x", secret: secret, types: ["message.recieved"]) }
            .contains("unknown event type message.recieved"))
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("inboxlite-fwconfig-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("targets.json")
        try #"{"targets": [{"name": "crm", "url": 42, "secret": "whsec_c2VjcmV0LXRoYXQtbXVzdC1ub3Qtc2hvdw=="}]}"#
            .write(to: file, atomically: true, encoding: .utf8)
        let message = refusal { try ForwardTarget.targets(configFile: file.path) { $0 }.first! }
        #expect(message.contains("wrong type at .targets[0].url") && !message.contains("whsec_"))
    }

    @Test func retriesBackOffExponentiallyWithJitterAndHonourRetryAfter() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        func next(_ result: AttemptResult, attempts: Int, failedAgo: TimeInterval = 0, retryFor: TimeInterval = 86_400, jitter: Double = 1) -> TimeInterval? {
            RetryPolicy.nextAttempt(after: result, attempts: attempts, firstFailedAt: now.addingTimeInterval(-failedAgo), retryFor: retryFor,
                                    now: now, firstPause: 2, jitter: jitter)?.timeIntervalSince(now)
        }
        let busy = AttemptResult.transient(error: "answered 503", status: 503, retryAfter: nil)
        let pauses = (1...13).map { next(busy, attempts: $0, retryFor: 3 * 86_400) ?? -1 }
        #expect(Array(pauses.prefix(4)) == [2, 4, 8, 16] && pauses.last == 3600, "2 s doubling up to an hour: \(pauses)")
        #expect(next(busy, attempts: 3, jitter: 0.5) == 4, "jitter scales the pause down to half")
        #expect(next(.transient(error: "answered 429", status: 429, retryAfter: 120), attempts: 1) == 120, "Retry-After is honoured")
        #expect(next(busy, attempts: 40, failedAgo: 86_401) == nil, "past the retry time: a dead letter")
        #expect(next(busy, attempts: 12, failedAgo: 86_000) == 400, "the last attempt falls at the end of the retry time")
        let refused = AttemptResult.refused(error: "answered 404", status: 404)
        #expect(next(refused, attempts: 4) != nil && next(refused, attempts: 5) == nil, "a 4xx is tried five times")
        #expect(RetryPolicy.retryAfter("Wed, 21 Oct 2026 07:28:00 GMT", now: Date(timeIntervalSince1970: 1_792_567_620)) == 60)
        #expect(RetryPolicy.retryAfter("soon", now: now) == nil)
    }
}

extension TestClientProtocol {
    /// POST to an admin route with the test token; status and body text.
    func postAdmin(_ uri: String) async throws -> (HTTPResponse.Status, String) {
        try await execute(uri: uri, method: .post, headers: [.authorization: "Bearer test-token"]) { response in
            (response.status, String(buffer: response.body))
        }
    }
}
