import Crypto
import Foundation
@testable import InboxStore
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `kill -9` of the real binary while webhooks are in flight: every webhook answered 200 must be
/// in the database after a restart, and re-sending the whole stream (as gateways retry what they
/// never got an answer for) must end in exactly the state of one clean pass.
@Suite("Crash under load")
struct CrashTests {
    /// A fixed stream: messages in and out over 40 contacts, 1-2 receipts per outgoing message,
    /// about one receipt in four before its message. Everything follows from the index, so every
    /// run sends the same bodies in the same order.
    static func stream() -> (bodies: [String], messages: Int, receipts: Int, acked: Int) {
        var items: [(position: Double, body: String)] = []
        var messages = 0, receipts = 0, acked = 0
        for index in 0..<150 {
            let contact = "3461234\(String(format: "%04d", index * 7 % 40))@c.us"
            let position = Double(index)
            if index % 2 == 0 {
                items.append((position, Payload.received(key: "IN\(index)", from: contact, body: "mensaje \(index)")))
            } else {
                items.append((position, Payload.sent(key: "OUT\(index)", to: contact, body: "respuesta \(index)")))
                acked += 1
                for ack in 2...(2 + index / 2 % 2) {
                    let early = (index + ack) % 4 == 0
                    let offset = early ? -Double((index * 3 + ack) % 20 + 1) : Double((index * 5 + ack) % 30 + 1)
                    items.append((position + offset + Double(ack) / 10, Payload.ack("OUT\(index)", ack)))
                    receipts += 1
                }
            }
            messages += 1
        }
        return (items.sorted { $0.position < $1.position }.map(\.body), messages, receipts, acked)
    }

    @Test(.timeLimit(.minutes(2))) func nothingAcknowledgedIsLostWhenTheProcessIsKilledUnderLoad() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("inboxlite-crash-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("data"), withIntermediateDirectories: true)
        let database = folder.appendingPathComponent("data/inbox.sqlite").path
        let log = folder.appendingPathComponent("serve.log")
        let (bodies, messages, receipts, acked) = Self.stream()

        // 16 connections send the stream; once a third of it is acknowledged the process is killed.
        let first = try await ServiceProcessTests.start(database: database, log: log)
        defer { if first.process.isRunning { kill(first.process.processIdentifier, SIGKILL) } }
        let progress = SendTally()
        let killAt = bodies.count / 3
        let (port, secret, pid) = (first.port, first.secret, first.process.processIdentifier)
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<16 {
                group.addTask {
                    while true {
                        let index = progress.next.withLock { value -> Int in defer { value += 1 }; return value }
                        guard index < bodies.count else { return }
                        let webhook = SignedWebhook(json: bodies[index], secret: secret)
                        guard let (status, _) = try? await RawHTTPConnection.request(
                            port: port, webhook.rawRequest(path: "/webhooks/inbox-hub"), timeout: 2
                        ), status != 0 else { return }  // the process is gone
                        if status == 200 {
                            let count = progress.acknowledged.withLock { set in set.insert(index); return set.count }
                            if count == killAt { kill(pid, SIGKILL) }
                        }
                    }
                }
            }
        }
        first.process.waitUntilExit()
        #expect(first.process.terminationReason == .uncaughtSignal, "killed, not stopped")
        let answered = progress.acknowledged.withLock { $0 }
        #expect(answered.count >= killAt && answered.count < bodies.count, "killed mid-stream (\(answered.count) of \(bodies.count))")

        // After a restart every acknowledged body is there.
        let second = try await ServiceProcessTests.start(database: database, log: log)
        defer { if second.process.isRunning { kill(second.process.processIdentifier, SIGKILL) } }
        let reader = try InboxDatabase.openReader(StoreConfiguration(path: database))
        var missing: [Int] = []
        for index in answered.sorted() {
            let hash = SHA256.hash(data: Array(bodies[index].utf8)).hexString
            let stored = try reader.queryFirst("SELECT status FROM webhook_deliveries WHERE body_sha256 = ?", hash)?.string(0)
            if stored != "applied" { missing.append(index) }
        }
        #expect(missing.isEmpty, "acknowledged but not applied after kill -9: \(missing)")

        // The gateway retries everything: acknowledged ones are duplicates, the state is exact.
        var duplicates = 0
        for (index, body) in bodies.enumerated() {
            let webhook = SignedWebhook(json: body, secret: second.secret)
            let (status, text) = try await RawHTTPConnection.request(port: second.port, webhook.rawRequest(path: "/webhooks/inbox-hub"))
            #expect(status == 200)
            if text.contains(#""duplicate":true"#) {
                duplicates += 1  // acknowledged, or committed just before the kill without its answer
            } else {
                #expect(!answered.contains(index), "body \(index) was acknowledged before the kill but not stored")
            }
        }
        #expect(duplicates >= answered.count)
        #expect(try reader.queryFirst("SELECT count(*) FROM webhook_deliveries")?.int(0) == bodies.count)
        #expect(try reader.queryFirst("SELECT count(*) FROM webhook_deliveries WHERE status <> 'applied'")?.int(0) == 0)
        #expect(try reader.queryFirst("SELECT count(*) FROM messages")?.int(0) == messages)
        #expect(try reader.queryFirst("SELECT count(*) FROM message_acks")?.int(0) == receipts)
        #expect(try reader.queryFirst("SELECT count(*) FROM messages WHERE ack IS NOT NULL")?.int(0) == acked)
        #expect(try reader.queryFirst("SELECT count(*) FROM pending_acks")?.int(0) == 0)
        #expect(try reader.queryFirst("SELECT sum(message_count) FROM conversations")?.int(0) == messages)
        #expect(try reader.queryFirst("SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'mensaje OR respuesta'")?.int(0) == messages)
        kill(second.process.processIdentifier, SIGTERM)
        second.process.waitUntilExit()
    }
}

/// Shared by the sending tasks: the next body to send, and which were answered 200.
private final class SendTally: Sendable {
    let next = Mutex(0)
    let acknowledged = Mutex<Set<Int>>([])
}
