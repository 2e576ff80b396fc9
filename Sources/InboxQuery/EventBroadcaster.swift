import Foundation
import NIOConcurrencyHelpers

/// An applied change, as the live stream sends it: the delivery id, its event and raw body.
public struct LiveEvent: Sendable, Equatable {
    public let id: Int64
    public let event: String
    public let sessionId: String?
    public let body: String

    public init(id: Int64, event: String, sessionId: String?, body: String) {
        self.id = id
        self.event = event
        self.sessionId = sessionId
        self.body = body
    }

    /// The events the stream carries.
    public static let streamed: Set<String> = [
        "message.received", "message.sent", "message.ack", "session.qr", "session.connected", "session.disconnected",
    ]

    /// `streamed` as an SQL list, for the backlog query (fixed names, never user input).
    static let streamedSQLList = streamed.sorted().map { "'\($0)'" }.joined(separator: ", ")
}

/// Fans committed changes out to live-stream subscribers without ever making the writer wait.
///
/// Each subscriber has a bounded buffer; one that falls `bufferSize` events behind is cut off (its
/// stream ends with `overflowed` set) instead of slowing the writer or growing without bound.
public final class EventBroadcaster: Sendable {
    public let bufferSize: Int
    private let subscribers = NIOLockedValueBox<[UInt64: Subscriber]>([:])
    private let nextId = NIOLockedValueBox<UInt64>(0)

    public init(bufferSize: Int = 1024) {
        self.bufferSize = bufferSize
    }

    /// What a subscriber's stream yields.
    public enum Item: Sendable {
        case event(LiveEvent)
        case heartbeat
    }

    final class Subscriber: Sendable {
        let session: String?
        let continuation: AsyncStream<Item>.Continuation
        let overflowed = NIOLockedValueBox(false)
        init(session: String?, continuation: AsyncStream<Item>.Continuation) {
            self.session = session
            self.continuation = continuation
        }
    }

    /// A live subscription; cancel it (or let it be released) to stop receiving.
    public struct Subscription: Sendable {
        public let stream: AsyncStream<Item>
        let subscriber: Subscriber
        let cancel: @Sendable () -> Void

        /// True once the subscriber fell too far behind and was cut off.
        public var overflowed: Bool { subscriber.overflowed.withLockedValue { $0 } }
        /// Injects a heartbeat, so the writer of the stream can keep the connection alive.
        public func heartbeat() { subscriber.continuation.yield(.heartbeat) }
        public func finish() { cancel() }
    }

    /// Subscribes to events of `session` (all sessions when nil).
    public func subscribe(session: String?) -> Subscription {
        let (stream, continuation) = AsyncStream.makeStream(of: Item.self, bufferingPolicy: .bufferingOldest(bufferSize))
        let id = nextId.withLockedValue { value -> UInt64 in value += 1; return value }
        let subscriber = Subscriber(session: session, continuation: continuation)
        subscribers.withLockedValue { $0[id] = subscriber }
        let remove: @Sendable () -> Void = { [weak self] in
            _ = self?.subscribers.withLockedValue { $0.removeValue(forKey: id) }
            continuation.finish()
        }
        continuation.onTermination = { _ in remove() }
        return Subscription(stream: stream, subscriber: subscriber, cancel: remove)
    }

    /// Number of connected subscribers.
    public var subscriberCount: Int { subscribers.withLockedValue { $0.count } }

    /// Publishes committed changes (called by the writer after each commit).
    public func publish(_ events: [LiveEvent]) {
        guard !events.isEmpty else { return }
        let current = subscribers.withLockedValue { Array($0.values) }
        for subscriber in current {
            for event in events where subscriber.session == nil || subscriber.session == event.sessionId {
                if case .dropped = subscriber.continuation.yield(.event(event)) {
                    subscriber.overflowed.withLockedValue { $0 = true }
                    subscriber.continuation.finish()
                    break
                }
            }
        }
    }
}
