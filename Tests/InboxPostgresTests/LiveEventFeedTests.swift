import Foundation
import InboxPostgres
import InboxQuery
import InboxStore
import Testing

/// The live stream with several nodes follows the delivery log; notifications only wake it. Here no
/// notification ever comes (no listener, no wake-up): the once-a-second fallback alone must deliver
/// every node's events, each once, in id order.
@Suite("The live feed follows the delivery log of every node", .timeLimit(.minutes(1)),
       .enabled(if: PostgresTestServer.available, "needs INBOXLITE_TEST_POSTGRES_URL (scripts/test starts a cluster)"))
struct LiveEventFeedTests {
    @Test("without any notification, two writers' interleaved commits reach a stream each once, in id order")
    func followsTheLogWithoutNotifications() async throws {
        try await PostgresTestServer.withMigratedDatabase { location in
            let logger = PostgresTestServer.logger
            let pool = ReadPool(engine: .postgresql) { limit in
                PostgresBlockingConnection(location: location, role: .reader(timeLimit: limit), logger: logger)
            }
            let broadcaster = EventBroadcaster()
            let feed = LiveEventFeed(pool: pool, broadcaster: broadcaster, head: 0, listener: nil,
                                     fallbackInterval: .milliseconds(300), logger: logger)
            let following = Task { try await feed.run() }
            defer { following.cancel() }

            // Before any stream: 40 deliveries.
            try await Self.commit(location, writers: 2, each: 20, from: 0)

            let subscription = try broadcaster.subscribe(scope: .everySession)
            defer { subscription.finish() }
            // A stream starts after the head read once it has subscribed (as the stream controller
            // does): the feed may still publish what committed just before.
            let head = try await pool.read { try DeliveryLog.head(in: $0) }
            try await Self.commit(location, writers: 2, each: 60, from: 1_000)
            var received: [Int64] = []
            // Ends the stream if the events do not all come within 15 s.
            let deadline = Task { try await Task.sleep(for: .seconds(15)); subscription.finish() }
            defer { deadline.cancel() }
            var events = subscription.stream.makeAsyncIterator()
            while received.count < 120, let item = await events.next() {
                if case .event(let event) = item {
                    subscription.taken(event)
                    if event.id > head { received.append(event.id) }
                }
            }
            let reader = PostgresBlockingConnection(location: location, role: .reader(timeLimit: 10), logger: logger)
            defer { reader.close() }
            let later = try reader.query("SELECT id FROM webhook_deliveries WHERE body LIKE '%LATE%' ORDER BY id", arguments: []).compactMap { $0.int(0).map(Int64.init) }
            #expect(later.count == 120)
            #expect(head == 40)
            #expect(received == later, "every event of both writers once, in id order")
        }
    }

    /// `writers` connections commit `each` deliveries apiece at the same time, in batches of 5, so
    /// their ids interleave.
    static func commit(_ location: PostgresLocation, writers: Int, each: Int, from first: Int) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<writers {
                group.addTask {
                    let connection = PostgresBlockingConnection(location: location, logger: PostgresTestServer.logger)
                    defer { connection.close() }
                    let inbox = try InboxWriter(database: connection)
                    let indexes = (0..<each).map { first + writer * each + $0 }
                    for batch in stride(from: 0, to: indexes.count, by: 5).map({ Array(indexes[$0..<min($0 + 5, indexes.count)]) }) {
                        let deliveries = try batch.map { index in
                            let body = TwoNodeWriteTests.sent(index).replacingOccurrences(of: "reply", with: first > 0 ? "LATE reply" : "early reply")
                            return try #require(EngineParityTests.delivery(Array(body.utf8), provider: .inboxHub, at: Date()))
                        }
                        _ = try inbox.commit(deliveries)
                    }
                }
            }
            try await group.waitForAll()
        }
    }
}
