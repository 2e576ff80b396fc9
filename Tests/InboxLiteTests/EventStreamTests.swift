import Foundation
import HTTPTypes
import HummingbirdTesting
import InboxQuery
import Testing

@Suite("Live event stream (SSE)")
struct EventStreamTests {
    private func events(_ client: any TestClientProtocol, _ uri: String, lastEventID: String? = nil) async throws -> (HTTPResponse.Status, String) {
        var headers: HTTPFields = [.authorization: "Bearer test-token"]
        if let lastEventID { headers[HTTPField.Name("Last-Event-ID")!] = lastEventID }
        return try await client.execute(uri: uri, method: .get, headers: headers) { response in
            (response.status, String(buffer: response.body))
        }
    }

    private func ids(_ stream: String) -> [Int] {
        stream.split(separator: "\n").compactMap { $0.hasPrefix("id: ") ? Int($0.dropFirst(4)) : nil }
    }

    @Test(.timeLimit(.minutes(1))) func backlogThenResumeFromLastEventID() async throws {
        let inbox = try TestInbox()
        defer { inbox.remove() }
        try await inbox.run { client async throws in
            for body in [Payload.received(key: "E1"), Payload.envelope("conversation.created", data: "{}"),
                         Payload.sent(key: "E2"), Payload.received(key: "E3", session: "other")] {
                let session = body.contains(#""sessionId":"other""#) ? "other" : "crm"
                #expect(try await client.status(SignedWebhook(json: body, session: session)) == .ok)
            }
            let (status, all) = try await events(client, "/api/events?max_events=3&last_event_id=0")
            #expect(status == .ok)
            #expect(ids(all) == [1, 3, 4], "ignored events are not streamed")
            #expect(all.contains("event: message.received\ndata: {\"event\":\"message.received\""))

            let (_, resumed) = try await events(client, "/api/events?max_events=2", lastEventID: "1")
            #expect(ids(resumed) == [3, 4])
            let (_, filtered) = try await events(client, "/api/events?max_events=1&session=other", lastEventID: "0")
            #expect(ids(filtered) == [4])
            let (bad, _) = try await events(client, "/api/events", lastEventID: "yesterday")
            #expect(bad == .badRequest)
        }
    }

    @Test(.timeLimit(.minutes(1))) func liveEventsArriveAfterCommitWithoutGapOrDuplicate() async throws {
        let inbox = try TestInbox()
        defer { inbox.remove() }
        // AsyncHTTPClient: the stream holds one connection while the posts use others.
        try await inbox.run(.ahc(.http)) { client async throws in
            #expect(try await client.status(SignedWebhook(json: Payload.received(key: "L0"))) == .ok)
            async let stream = events(client, "/api/events?max_events=3", lastEventID: "0")
            try await Task.sleep(for: .milliseconds(100))
            for key in ["L1", "L2"] {
                #expect(try await client.status(SignedWebhook(json: Payload.received(key: key))) == .ok)
            }
            let (status, body) = try await stream
            #expect(status == .ok)
            #expect(ids(body) == [1, 2, 3])
        }
    }

    @Test(.timeLimit(.minutes(1))) func idleStreamsGetHeartbeats() async throws {
        var inbox = try TestInbox()
        inbox.configuration.eventHeartbeat = .milliseconds(10)
        defer { inbox.remove() }
        try await inbox.live { port, _ in
            // A stream from the live head: a heartbeat comes while nothing happens, then the
            // webhook posted after it is the stream's one event. (Posting only once a heartbeat
            // has arrived: under load the stream can be slower to open than the webhook to commit.)
            let stream = try RawHTTPConnection(port: port)
            stream.send(AuthenticationTests.get("/api/events?max_events=1", token: "test-token"))
            let idle = await stream.read(timeout: 20) { $0.contains(": heartbeat\n\n") }
            #expect(idle.hasPrefix("HTTP/1.1 200") && idle.contains(": heartbeat\n\n"), "\(idle)")
            let webhook = SignedWebhook(json: Payload.received(key: "H1")).rawRequest(path: "/webhooks/inbox-hub")
            #expect(try await RawHTTPConnection.request(port: port, webhook).0 == 200)
            let body = await stream.read(timeout: 20) { $0.contains("id: ") && $0.hasSuffix("\n\n") }
            // (The raw answer is chunked: CRLF before each chunk, one Character to Swift's split.)
            #expect(ids(body.replacingOccurrences(of: "\r\n", with: "\n")) == [1], "\(body)")
        }
    }

    @Test func aSlowSubscriberIsCutOffInsteadOfSlowingTheWriter() async throws {
        let broadcaster = EventBroadcaster(bufferSize: 4)
        let subscription = try broadcaster.subscribe(scope: .everySession)
        broadcaster.publish((1...10).map { LiveEvent(id: Int64($0), event: "message.received", sessionId: "s", body: "{}") })
        var received: [Int64] = []
        for await item in subscription.stream {
            if case .event(let event) = item { received.append(event.id) }
        }
        #expect(received == [1, 2, 3, 4])
        #expect(subscription.overflowed)
        #expect(broadcaster.subscriberCount == 0)
    }
}
