import Foundation
import HTTPTypes
import Hummingbird
import InboxHTTP
import InboxStore
import NIOConcurrencyHelpers
import ServiceLifecycle

/// `GET /api/events`: Server-Sent Events of applied changes, published only after commit.
///
/// A new client starts at the live head. A client reconnecting with `Last-Event-ID` (or
/// `?last_event_id=`) first gets what it missed from the delivery log, then live events, with no
/// gap and no duplicate: it subscribes before reading the backlog and skips live events it
/// already sent. An id from before what retention still holds gets `event: reset`, then the live
/// head. On graceful shutdown every stream sends `event: shutdown` and ends, so a stop is never
/// held up by an open stream. `max_events` makes the stream finite (for scripts and tests).
public struct EventStreamController<Context: AuthorizedRequestContext>: Sendable {
    let pool: ReadPool
    /// Where the stream is served and which log it follows.
    let path: String
    let source: any EventLogSource
    let broadcaster: EventBroadcaster
    /// Asked every second whether the stream's token still holds: a revoked or expired token's
    /// stream ends within a second.
    let tokens: TokenRegistry
    let heartbeatInterval: Duration

    public init(pool: ReadPool, path: String = "/api/events", source: any EventLogSource = DeliveryLog(), broadcaster: EventBroadcaster,
                tokens: TokenRegistry, heartbeatInterval: Duration = .seconds(15)) {
        self.pool = pool
        self.path = path
        self.source = source
        self.broadcaster = broadcaster
        self.tokens = tokens
        self.heartbeatInterval = heartbeatInterval
    }

    public func addRoutes(to router: some RouterMethods<Context>) {
        router.get(RouterPath(path)) { request, context in try await stream(request, scope: context.sessionScope()) }
    }

    /// Events of the sessions the token may see (narrowed to `?session=` if asked: another
    /// session's stream is as empty as one that has had no events).
    func stream(_ request: Request, scope tokenScope: SessionScope) async throws -> Response {
        let scope = tokenScope.narrowed(to: try request.parameter("session"))
        var resumeAfter: Int64?
        if let header = try request.headers[HTTPField.Name("Last-Event-ID")!] ?? request.queryValue("last_event_id") {
            guard let value = Int64(header), value >= 0 else {
                throw QueryError.badParameter("Last-Event-ID", "must be an id this stream sent")
            }
            resumeAfter = value
        }
        var maxEvents = Int.max
        if let text = try request.parameter("max_events", maxLength: 6) {
            guard let value = Int(text), value > 0 else { throw QueryError.badParameter("max_events", "must be a positive whole number") }
            maxEvents = value
        }
        let subscription: EventBroadcaster.Subscription
        do {
            subscription = try broadcaster.subscribe(scope: scope)
        } catch {
            throw QueryError.tooManyStreams(broadcaster.maxSubscribers)
        }
        // Decided before the 200 goes out: whether the id can still be resumed from the log, and
        // for a client that does not resume, where the live head is. It starts after the head, read
        // after subscribing: with several nodes the live feed may still publish what committed
        // just before, and that is not this client's to see.
        var reset = false
        if let resumeAfter {
            let horizon = try await pool.read { [source] db in try source.horizon(in: db) }
            reset = resumeAfter < horizon
        }
        let liveHead = resumeAfter == nil || reset ? try await pool.read { [source] in try source.head(in: $0) } : 0
        let (pool, source, interval, limit, resetNeeded, resumeFrom) = (self.pool, self.source, heartbeatInterval, maxEvents, reset, resumeAfter)
        let (tokens, authorization) = (self.tokens, request.headers[.authorization])
        let body = ResponseBody { writer in
            let heartbeats = Task {
                while !Task.isCancelled {
                    try await Task.sleep(for: interval)
                    subscription.heartbeat()
                }
            }
            let revoked = NIOLockedValueBox(false)
            let watch = Task {
                while !Task.isCancelled {
                    try await Task.sleep(for: .seconds(1))
                    if await !tokens.stillValid(authorization: authorization) {
                        revoked.withLockedValue { $0 = true }
                        subscription.finish()
                        return
                    }
                }
            }
            defer {
                heartbeats.cancel()
                watch.cancel()
                subscription.finish()
            }
            try await withGracefulShutdownHandler {
                var sent = 0
                var last = resumeFrom ?? 0
                if resetNeeded {
                    try await writer.write(ByteBuffer(string:
                        "event: reset\ndata: {\"error\":\"history_unavailable\",\"message\":\"events after \(last) are no longer kept; continuing from the live head\"}\n\n"
                    ))
                } else if resumeFrom != nil {
                    // 1. What the client missed, from the delivery log, in pages.
                    while sent < limit, !subscription.isShuttingDown {
                        let (after, size) = (last, min(500, limit - sent))
                        let page = try await pool.read { db in try source.events(in: db, after: after, scope: scope, limit: size) }
                        for event in page where sent < limit {
                            try await writer.write(Self.frame(event))
                            last = event.id
                            sent += 1
                        }
                        if page.count < 500 { break }
                    }
                }
                // 2. Live events, skipping any the backlog already covered.
                if sent < limit, !subscription.isShuttingDown {
                    // Everything up to here came from the log, with its merges; a live event with the
                    // same id as the one just sent (a delivery's `contact.merged`) is new.
                    let covered = max(last, liveHead)
                    for await item in subscription.stream {
                        switch item {
                        case .heartbeat:
                            try await writer.write(ByteBuffer(string: ": heartbeat\n\n"))
                        case .event(let event):
                            subscription.taken(event)
                            guard event.id > covered else { continue }
                            try await writer.write(Self.frame(event))
                            last = event.id
                            sent += 1
                        }
                        if sent >= limit { break }
                    }
                }
                if revoked.withLockedValue({ $0 }) {
                    try await writer.write(ByteBuffer(string:
                        "event: unauthorized\ndata: {\"error\":\"unauthorized\",\"message\":\"the API token was revoked or has expired\",\"last_event_id\":\(last)}\n\n"
                    ))
                } else if subscription.isShuttingDown {
                    try await writer.write(ByteBuffer(string:
                        "event: shutdown\ndata: {\"message\":\"the service is stopping; reconnect with Last-Event-ID\",\"last_event_id\":\(last)}\n\n"
                    ))
                } else if subscription.overflowed {
                    try await writer.write(ByteBuffer(string:
                        "event: overflow\ndata: {\"error\":\"slow_consumer\",\"message\":\"too far behind; reconnect with Last-Event-ID\",\"last_event_id\":\(last)}\n\n"
                    ))
                }
            } onGracefulShutdown: {
                subscription.shutdown()
            }
            try await writer.finish(nil)
        }
        return Response(
            status: .ok,
            headers: [.contentType: "text/event-stream", .cacheControl: "no-store", .init("X-Accel-Buffering")!: "no"],
            body: body
        )
    }

    /// One SSE message: `id`, `event`, and the delivery body as `data` lines.
    static func frame(_ event: LiveEvent) -> ByteBuffer {
        var text = "id: \(event.id)\nevent: \(event.event)\n"
        for line in event.body.split(separator: "\n", omittingEmptySubsequences: false) {
            text += "data: \(line.trimmingCharacters(in: CharacterSet(charactersIn: "\r")))\n"
        }
        return ByteBuffer(string: text + "\n")
    }
}
