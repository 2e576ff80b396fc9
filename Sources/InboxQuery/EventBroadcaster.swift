import Foundation
import InboxStore
import NIOConcurrencyHelpers

/// An applied change, as the live stream sends it: the delivery id, InboxLite's name for what it
/// did (`message.received`, `message.ack`, `session.qr`, … whatever the gateway called it) and
/// the raw body.
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

    /// `contact.merged`: sent after the event of the delivery that revealed two contacts to be one
    /// person, with that delivery's id (a client resuming after it has seen both).
    public static func contactMerged(_ merge: ContactMerge, deliveryId: Int64) -> LiveEvent {
        var json = JSONWriter()
        json.object { json in
            json.key("session_id"); json.string(merge.sessionId)
            json.key("contact_id"); json.integer(merge.contactId)
            json.key("whatsapp_id"); json.string(merge.whatsappId)
            json.key("merged_whatsapp_id"); json.string(merge.mergedWhatsappId)
            json.key("reason"); json.string(merge.reason)
        }
        return LiveEvent(id: deliveryId, event: "contact.merged", sessionId: merge.sessionId,
                         body: String(decoding: json.bytes, as: UTF8.self))
    }
}

/// Fans committed changes out to live-stream subscribers without ever making the writer wait.
///
/// Everything is bounded: at most `maxSubscribers` streams at once, and each subscriber's backlog
/// at most `bufferSize` events and `maxBufferedBytes` bytes. A subscriber that falls further
/// behind is cut off (its stream ends with `overflowed` set) instead of slowing the writer or
/// holding memory.
public final class EventBroadcaster: Sendable {
    public let bufferSize: Int
    public let maxBufferedBytes: Int
    public let maxSubscribers: Int
    private let subscribers = NIOLockedValueBox<[UInt64: Subscriber]>([:])
    private let nextId = NIOLockedValueBox<UInt64>(0)

    public init(bufferSize: Int = 1024, maxBufferedBytes: Int = 1 << 20, maxSubscribers: Int = 64) {
        self.bufferSize = bufferSize
        self.maxBufferedBytes = maxBufferedBytes
        self.maxSubscribers = maxSubscribers
    }

    /// What a subscriber's stream yields.
    public enum Item: Sendable {
        case event(LiveEvent)
        case heartbeat
    }

    final class Subscriber: Sendable {
        let scope: SessionScope
        let continuation: AsyncStream<Item>.Continuation
        let overflowed = NIOLockedValueBox(false)
        let stopping = NIOLockedValueBox(false)
        /// Body bytes published to this subscriber and not yet taken from its stream.
        let bufferedBytes = NIOLockedValueBox(0)
        init(scope: SessionScope, continuation: AsyncStream<Item>.Continuation) {
            self.scope = scope
            self.continuation = continuation
        }
    }

    /// A live subscription; finish it (or let the stream end) to stop receiving.
    public struct Subscription: Sendable {
        public let stream: AsyncStream<Item>
        let subscriber: Subscriber
        let cancel: @Sendable () -> Void

        /// True once the subscriber fell too far behind and was cut off.
        public var overflowed: Bool { subscriber.overflowed.withLockedValue { $0 } }
        /// Injects a heartbeat, so the writer of the stream can keep the connection alive.
        public func heartbeat() { subscriber.continuation.yield(.heartbeat) }
        /// True once `shutdown()` was called.
        public var isShuttingDown: Bool { subscriber.stopping.withLockedValue { $0 } }
        /// Ends the stream because the service is stopping (graceful shutdown).
        public func shutdown() {
            subscriber.stopping.withLockedValue { $0 = true }
            subscriber.continuation.finish()
        }
        /// The consumer took `event` off the stream: its bytes no longer count against the buffer.
        public func taken(_ event: LiveEvent) {
            subscriber.bufferedBytes.withLockedValue { $0 -= event.body.utf8.count }
        }
        public func finish() { cancel() }
    }

    /// Why a subscription was refused.
    public enum SubscribeError: Error {
        case tooManySubscribers(Int)
    }

    /// Subscribes to events of the sessions `scope` allows; refused when `maxSubscribers` streams
    /// are already open.
    public func subscribe(scope: SessionScope) throws(SubscribeError) -> Subscription {
        let (stream, continuation) = AsyncStream.makeStream(of: Item.self, bufferingPolicy: .bufferingOldest(bufferSize))
        let id = nextId.withLockedValue { value -> UInt64 in value += 1; return value }
        let subscriber = Subscriber(scope: scope, continuation: continuation)
        let admitted = subscribers.withLockedValue { current -> Bool in
            guard current.count < maxSubscribers else { return false }
            current[id] = subscriber
            return true
        }
        guard admitted else {
            continuation.finish()
            throw .tooManySubscribers(maxSubscribers)
        }
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
            for event in events where subscriber.scope.allows(event.sessionId) {
                let size = event.body.utf8.count
                let fits = subscriber.bufferedBytes.withLockedValue { bytes -> Bool in
                    guard bytes + size <= maxBufferedBytes || bytes == 0 else { return false }
                    bytes += size
                    return true
                }
                var dropped = !fits
                if fits, case .dropped = subscriber.continuation.yield(.event(event)) { dropped = true }
                if dropped {
                    subscriber.overflowed.withLockedValue { $0 = true }
                    subscriber.continuation.finish()
                    break
                }
            }
        }
    }
}
