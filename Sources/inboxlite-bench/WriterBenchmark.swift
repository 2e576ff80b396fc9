import InboxEvents
import ArgumentParser
import Crypto
import Foundation
import InboxStore

/// Measures the writer alone: signed-and-verified deliveries committed in batches, no HTTP.
struct WriterBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "writer", abstract: "Commit N deliveries through InboxWriter.")

    @Option(help: "Deliveries to commit.") var count = 100_000
    @Option(help: "Deliveries per transaction.") var batch = 64
    @Option(help: "Migrations folder.") var migrations = "Migrations"
    @Option(help: "Database file (a temp file by default).") var db: String?

    func run() async throws {
        let path = db ?? FileManager.default.temporaryDirectory.appendingPathComponent("writer-bench-\(UUID().uuidString).sqlite").path
        let store = StoreConfiguration(path: path)
        let owner = try StoreOwner(store)
        try owner.migrate(try Migration.load(from: URL(fileURLWithPath: migrations)))
        let writer = try owner.makeWriter()
        let checkpointer = owner.makeCheckpointer()
        try checkpointer?.start()
        defer { checkpointer?.stop() }
        let deliveries = SyntheticDeliveries.make(count: count)
        let started = ContinuousClock.now
        var index = 0
        while index < deliveries.count {
            let end = min(index + batch, deliveries.count)
            _ = try writer.commit(Array(deliveries[index..<end]))
            if checkpointer?.takeRewindRequest() == true { try writer.checkpoint() }
            index = end
        }
        let seconds = (ContinuousClock.now - started).seconds
        print(String(format: "writer: %d deliveries in batches of %d: %.2f s, %.0f deliveries/s",
                     count, batch, seconds, Double(count) / seconds))
        if db == nil { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

/// A realistic mix of message deliveries, parsed exactly as the receiver parses them.
enum SyntheticDeliveries {
    static func make(count: Int, sessions: Int = 4, contacts: Int = 2000, seed: UInt64 = 42) -> [IncomingDelivery] {
        var generator = Generator(sessions: sessions, contactsPerSession: contacts / sessions, seed: seed)
        return generator.next(count)
    }

    /// Produces deliveries in chunks, so a million need not sit in memory at once.
    struct Generator {
        let sessions: Int
        let contactsPerSession: Int
        var random: SplitMix
        var index = 0
        var unacked: [(String, String)] = []
        let now = Date()
        let words = ["hola", "presupuesto", "pedido", "envío", "factura", "gracias", "mañana", "cita", "precio",
                     "descuento", "llamada", "dirección", "pago", "transferencia", "devolución", "garantía", "stock",
                     "catálogo", "reunión", "urgente", "café", "almacén", "camión", "teléfono", "correo"]

        init(sessions: Int, contactsPerSession: Int, seed: UInt64) {
            self.sessions = sessions
            self.contactsPerSession = contactsPerSession
            random = SplitMix(seed: seed)
        }

        /// Roughly 55% received, 35% sent, 10% read receipts for earlier sent messages.
        mutating func next(_ count: Int) -> [IncomingDelivery] {
            let iso = Timestamps.iso(now)
            let base = Int(now.timeIntervalSince1970)
            var result: [IncomingDelivery] = []
            result.reserveCapacity(count)
            for _ in 0..<count {
                index += 1
                let sessionIndex = Int(random.next() % UInt64(sessions))
                let session = "crm_\(sessionIndex)"
                let chat = "34\(600_000_000 + sessionIndex * contactsPerSession + Int(random.next() % UInt64(contactsPerSession)))@c.us"
                let text = (0..<(4 + Int(random.next() % 12))).map { _ in words[Int(random.next() % UInt64(words.count))] }
                    .joined(separator: " ")
                let time = base - Int(random.next() % (90 * 86_400))
                let roll = random.next() % 100
                let json: String
                if roll < 10, !unacked.isEmpty {
                    let target = unacked.removeLast()
                    json = #"{"event":"message.ack","sessionId":"\#(target.1)","data":{"messageId":"\#(target.0)","ack":3,"timestamp":\#(base)},"timestamp":"\#(iso)"}"#
                } else if roll < 45 {
                    let key = "OUT\(index)"
                    if roll < 25 { unacked.append((key, session)) }
                    json = #"{"event":"message.sent","sessionId":"\#(session)","data":{"id":{"fromMe":true,"remote":"\#(chat)","id":"\#(key)","_serialized":"true_\#(chat)_\#(key)_out"},"body":"\#(text)","timestamp":\#(time),"from":"34657032985@c.us","to":"\#(chat)","fromMe":true},"timestamp":"\#(iso)"}"#
                } else {
                    let key = "IN\(index)"
                    json = #"{"event":"message.received","sessionId":"\#(session)","data":{"id":{"fromMe":false,"remote":"\#(chat)","id":"\#(key)","_serialized":"false_\#(chat)_\#(key)_in"},"body":"\#(text)","type":"chat","timestamp":\#(time),"from":"\#(chat)","to":"34657032985@c.us","fromMe":false,"hasMedia":false,"isForwarded":false,"isStatus":false,"quotedMsgId":null,"notifyName":"Cliente \#(chat.dropFirst(5).prefix(5))"},"timestamp":"\#(iso)"}"#
                }
                let body = Array(json.utf8)
                let envelope = try! WebhookEnvelope.parse(body)
                result.append(IncomingDelivery(
                    body: body, bodySHA256: IncomingDelivery.sha256Hex(of: body), sessionId: envelope.sessionId,
                    receivedAt: now, envelope: envelope
                ))
            }
            return result
        }
    }
}

/// A tiny deterministic generator so runs are comparable.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
