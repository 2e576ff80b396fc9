import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing
import WebhookReceiver

@Suite("Webhook verification: nothing from a rejected request is stored")
struct WebhookVerificationTests {
    /// Posts `webhook`, expects `status` and `code`, and checks that no table changed.
    private func expectRejected(
        _ webhook: SignedWebhook, status: Int, code: String, inbox: TestInbox? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let inbox = try inbox ?? TestInbox()
        defer { inbox.remove() }
        let (answer, success, error, message) = try await inbox.run { client async throws in
            let (status, json) = try await client.post(webhook)
            return (status.code, json["success"] as? Bool, json["error"] as? String, json["message"] as? String)
        }
        #expect(answer == status, sourceLocation: sourceLocation)
        #expect(success == false, sourceLocation: sourceLocation)
        #expect(error == code, sourceLocation: sourceLocation)
        #expect(message?.isEmpty == false, sourceLocation: sourceLocation)
        for table in ["webhook_deliveries", "messages", "contacts", "sessions", "session_events", "pending_acks"] {
            #expect(try inbox.count(table) == 0, "\(table) must stay empty", sourceLocation: sourceLocation)
        }
    }

    private let valid = Payload.received(key: "K1")

    @Test func missingSignatureIs401() async throws {
        var webhook = SignedWebhook(json: valid)
        webhook.headers[.webhookSignature] = nil
        try await expectRejected(webhook, status: 401, code: "missing_signature")
    }

    @Test func wrongSecretIs401() async throws {
        try await expectRejected(SignedWebhook(json: valid, secret: "not-the-secret"), status: 401, code: "invalid_signature")
    }

    @Test func signatureOverDifferentBytesIs401() async throws {
        var webhook = SignedWebhook(json: valid)
        webhook.body = Array(valid.replacingOccurrences(of: "Hola", with: "Hola!").utf8)
        try await expectRejected(webhook, status: 401, code: "invalid_signature")
    }

    @Test func malformedSignatureIs401() async throws {
        try await expectRejected(SignedWebhook(json: valid, signature: "sha256=zz"), status: 401, code: "invalid_signature")
    }

    /// A signature header sent twice reads as both values joined (as HTTP defines), which is no
    /// signature: refused, even though each copy alone is right.
    @Test func repeatedSignatureHeaderIs401() async throws {
        var webhook = SignedWebhook(json: valid)
        let signature = try #require(webhook.headers[.webhookSignature])
        webhook.headers.append(HTTPField(name: .webhookSignature, value: signature))
        try await expectRejected(webhook, status: 401, code: "invalid_signature")
    }

    @Test func missingTimestampIs401() async throws {
        try await expectRejected(SignedWebhook(json: valid, timestamp: nil), status: 401, code: "missing_timestamp")
    }

    @Test func staleHeaderTimestampIs401() async throws {
        let old = Int64((Date().timeIntervalSince1970 - 301) * 1000)
        try await expectRejected(SignedWebhook(json: valid, timestamp: old), status: 401, code: "stale_timestamp")
    }

    @Test func futureHeaderTimestampIs401() async throws {
        let future = Int64((Date().timeIntervalSince1970 + 400) * 1000)
        try await expectRejected(SignedWebhook(json: valid, timestamp: future), status: 401, code: "future_timestamp")
    }

    @Test func staleSignedEnvelopeTimestampIs401EvenWithFreshHeader() async throws {
        let replayed = Payload.envelope("session.connected", data: #"{"phoneNumber":"1"}"#, timestamp: "2025-10-14T06:30:00.000Z")
        try await expectRejected(SignedWebhook(json: replayed), status: 401, code: "stale_timestamp")
    }

    @Test func malformedJSONIs400() async throws {
        try await expectRejected(SignedWebhook(json: #"{"event": "message.received", "#), status: 400, code: "malformed_json")
    }

    @Test func nonObjectBodyIs400() async throws {
        try await expectRejected(SignedWebhook(json: #"["message.received"]"#), status: 400, code: "not_an_object")
    }

    @Test func bodyWithoutEventIs400() async throws {
        try await expectRejected(SignedWebhook(json: #"{"sessionId":"crm","data":{}}"#), status: 400, code: "missing_event")
    }

    @Test func oversizedBodyIs413() async throws {
        let inbox = try TestInbox(maxBodyBytes: 1024)
        let big = Payload.received(key: "BIG", body: String(repeating: "x", count: 2000))
        try await expectRejected(SignedWebhook(json: big), status: 413, code: "body_too_large", inbox: inbox)
    }

    @Test func headerSessionMustMatchBodySession() async throws {
        // Signed with the default secret as session "other", but the body claims "crm".
        try await expectRejected(SignedWebhook(json: valid, session: "other"), status: 401, code: "session_mismatch")
    }

    @Test func signatureFormsTheGuideAllows() async throws {
        let inbox = try TestInbox()
        defer { inbox.remove() }
        try await inbox.run { client async throws in
            let bare = SignedWebhook(json: Payload.received(key: "A"))
            var unprefixed = bare
            unprefixed.headers[.webhookSignature] = String(bare.headers[.webhookSignature]!.dropFirst(7))
            #expect(try await client.status(unprefixed) == .ok)

            var upper = SignedWebhook(json: Payload.received(key: "B"))
            upper.headers[.webhookSignature] = "sha256=" + upper.headers[.webhookSignature]!.dropFirst(7).uppercased()
            #expect(try await client.status(upper) == .ok)

            let seconds = SignedWebhook(json: Payload.received(key: "C"), timestamp: Int64(Date().timeIntervalSince1970))
            #expect(try await client.status(seconds) == .ok)

            // No X-Webhook-Session header: the body's sessionId chooses the secret.
            let noHeader = SignedWebhook(json: Payload.received(key: "D"), session: nil)
            #expect(try await client.status(noHeader) == .ok)

            // The guide's Frappe path answers the same way.
            let frappe = SignedWebhook(json: Payload.received(key: "E"))
            #expect(try await client.status(frappe, path: "/api/method/xappiens_whatsapp.api.webhook.handle_webhook") == .ok)
        }
        #expect(try inbox.count("messages") == 5)
    }

    @Test func perSessionSecretsAndRotation() async throws {
        let inbox = try TestInbox(sessionSecrets: ["vip": ["new-secret", "old-secret"]])
        defer { inbox.remove() }
        try await inbox.run { client async throws in
            let new = SignedWebhook(json: Payload.received(key: "N", session: "vip"), secret: "new-secret", session: "vip")
            #expect(try await client.status(new) == .ok)
            let old = SignedWebhook(json: Payload.received(key: "O", session: "vip"), secret: "old-secret", session: "vip")
            #expect(try await client.status(old) == .ok)
            // A listed session does not accept the default secret…
            let viaDefault = SignedWebhook(json: Payload.received(key: "D", session: "vip"), session: "vip")
            #expect(try await client.status(viaDefault) == .unauthorized)
            // …not even when the header is left out and the body names it.
            let noHeader = SignedWebhook(json: Payload.received(key: "H", session: "vip"), session: nil)
            #expect(try await client.status(noHeader) == .unauthorized)
            // …and another session's secret does not open it by lying in the header.
            let lying = SignedWebhook(json: Payload.received(key: "L", session: "vip"), session: "crm")
            #expect(try await client.status(lying) == .unauthorized)
            // Unlisted sessions keep using the default secret.
            let other = SignedWebhook(json: Payload.received(key: "X", session: "crm"), session: "crm")
            #expect(try await client.status(other) == .ok)
            let otherWithVipSecret = SignedWebhook(json: Payload.received(key: "Y", session: "crm"), secret: "new-secret", session: "crm")
            #expect(try await client.status(otherWithVipSecret) == .unauthorized)
        }
        #expect(try inbox.count("messages", where: "session_id = 'vip'") == 2)
        #expect(try inbox.count("messages", where: "session_id = 'crm'") == 1)
    }

    @Test func secretsFileFormats() throws {
        let parsed = try WebhookSecrets.parseSecretsFile(Data(#"{"a":"s1","b":["s2","s3"]}"#.utf8))
        #expect(parsed == ["a": ["s1"], "b": ["s2", "s3"]])
        #expect(throws: SecretsFileError.self) { try WebhookSecrets.parseSecretsFile(Data("{".utf8)) }
        #expect(throws: SecretsFileError.self) { try WebhookSecrets.parseSecretsFile(Data(#"{"a":1}"#.utf8)) }
        #expect(throws: SecretsFileError.self) { try WebhookSecrets.parseSecretsFile(Data(#"{"a":[]}"#.utf8)) }
        #expect(throws: SecretsFileError.self) { try WebhookSecrets.parseSecretsFile(Data(#"["a"]"#.utf8)) }
    }
}
