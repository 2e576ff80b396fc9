import Foundation
import InboxQuery
import InboxStore
import Logging
import NIOCore
import Synchronization

/// Forwards the event log to one target: every event at least once, each chat's events in log
/// order, other chats never held back by one that fails.
///
/// One loop owns all the state; attempts run as child tasks and report back to it. Events are
/// read from the log after the target's position, queued per chat, and sent with at most
/// `concurrency` requests in flight and one per chat. An event whose first attempt fails is
/// *held*: it, the queued events of its chat and every later one of that chat go to
/// `forwarding_retries`, where the first of each chat is retried with backoff while the chat's
/// others wait. The position moves past an event once it is delivered or held, in the same
/// transaction that stores the holds, so after a crash everything after the saved position is
/// simply sent again (at least once).
///
/// While webhooks wait for the writer (`ingestBusy`), forwarding yields: one request at a time,
/// one every 20 ms. The machine's CPU goes to taking webhooks first; the backlog waits in the
/// database and drains at full speed once they slow down.
///
/// A target that fails three fresh events in a row without answering (connection errors,
/// timeouts, 408, 429, 5xx) is *down*: the log is no longer read for it (its backlog stays where
/// it is, costing no writes) and one event at a time probes it, every `probeInterval`; the first
/// answer brings it back up and the backlog drains at full speed.
final class TargetForwarder: @unchecked Sendable {
    struct Settings: Sendable {
        /// How long a node's claim on the target lasts without renewal (several nodes).
        var lease: TimeInterval = 30
        /// How often progress is saved while events flow.
        var saveInterval: Duration = .milliseconds(200)
        /// Events read per query, and the most read ahead of the position.
        var pageSize = 256
        var window = 2048
        /// The longest a quiet loop sleeps before it looks at the log and the retries again.
        var idlePoll: Duration = .seconds(1)
    }

    let target: ForwardTarget
    private let settings: Settings
    private let pool: ReadPool
    private let ledger: any ForwardingLedger
    private let sender: WebhookSender
    private let observer: any ForwardingObserver
    private let logger: Logger
    /// This process's name on leases.
    private let holder: String
    /// Where the target starts if it is new.
    private let startAfter: Int64
    /// Whether webhooks are waiting for the writer now.
    private let ingestBusy: @Sendable () -> Bool
    let wake = WakeSignal()
    private let stopping = StopFlag()

    init(target: ForwardTarget, settings: Settings = Settings(), startAfter: Int64, pool: ReadPool, eventLoopGroup: any EventLoopGroup,
         ledger: any ForwardingLedger, holder: String, ingestBusy: @escaping @Sendable () -> Bool = { false },
         observer: any ForwardingObserver, logger: Logger) {
        self.target = target
        self.ingestBusy = ingestBusy
        self.startAfter = startAfter
        var settings = settings
        // Retries are looked for at least as often as the shortest pause.
        settings.idlePoll = min(settings.idlePoll, target.firstRetryPause)
        self.settings = settings
        self.pool = pool
        self.ledger = ledger
        self.holder = holder
        self.observer = observer
        self.logger = logger
        sender = WebhookSender(target: target, eventLoopGroup: eventLoopGroup)
    }

    func stop() {
        stopping.set()
        wake.signal()
    }

    /// Claims the target and forwards until stopped; another node's claim is waited out.
    func run() async {
        var claimFailed = false
        while !stopping.isSet {
            let claim: ForwardingClaim?
            do {
                claim = try await ledger.claimForwarding(target: target.name, url: target.shownURL, startAfter: startAfter, holder: holder,
                                                         lease: settings.lease)
                if claimFailed { logger.notice("forwarding reaches the database again", metadata: ["target": "\(target.name)"]) }
                claimFailed = false
            } catch {
                if !claimFailed { logger.warning("forwarding waits for the database", metadata: ["target": "\(target.name)", "error": "\(error)"]) }
                claimFailed = true
                await wake.wait(timeout: .seconds(1))
                continue
            }
            guard let claim else {
                // Another node forwards it; its lease runs out if that node stops renewing it.
                await wake.wait(timeout: .seconds(settings.lease / 3))
                continue
            }
            var run = Run(claim: claim)
            await forward(&run)
        }
        try? await ledger.releaseForwarding(target: target.name, holder: holder)
        await sender.shutdown()
    }

    // MARK: - One claim

    /// Everything the loop knows while it holds the target.
    private struct Run {
        /// Saved position; `readThrough`: how far the log was read.
        var position: Int64
        var readThrough: Int64
        /// Seqs read and not yet delivered or held, ascending, and those of them finished.
        var unfinished = FIFO<Int64>()
        var finished = Set<Int64>()
        var queues: [ChatKey: FIFO<InboxEventRecord>] = [:]
        var ready = FIFO<ChatKey>()
        var busy = Set<ChatKey>()
        /// Chats with events in `forwarding_retries`: their new events wait there too.
        var held: Set<ChatKey>
        var retrying = Set<ChatKey>()
        /// Chats whose retried event was delivered: still held until the ledger shows none left.
        var mayBeClear = Set<ChatKey>()
        var inFlight = 0
        /// Fresh events in flight, fresh events failed in a row without an answer, and whether the
        /// target is down (only probes go out).
        var liveInFlight = 0
        var unanswered = 0
        var down = false
        var nextProbe = ContinuousClock.now
        /// The log may hold more than was read: set by a wake-up (a commit) or a full page, so a
        /// loop turn after each answer does not query the log for nothing.
        var mayHaveMore = true
        /// While webhooks wait for the writer: when the next request may go.
        var nextPaced = ContinuousClock.now
        /// Dead letters not yet logged, and when one last was (said at most once a minute).
        var deadUnlogged = 0
        var lastDeadLog: ContinuousClock.Instant?
        /// The last save did not reach the database (said once, and when it does again).
        var saveFailing = false
        var changes = ForwardingChanges()
        var lastSave = ContinuousClock.now
        var nextRetryPoll = ContinuousClock.now
        var failing = false

        init(claim: ForwardingClaim) {
            position = claim.forwardedThrough
            readThrough = claim.forwardedThrough
            held = claim.heldChats
        }

        /// Everything up to here is delivered or held.
        var reachedPosition: Int64 {
            mutating get {
                while let first = unfinished.first, finished.remove(first) != nil { _ = unfinished.popFirst() }
                return unfinished.first.map { $0 - 1 } ?? readThrough
            }
        }
    }

    private enum Completion: Sendable {
        case live(InboxEventRecord, AttemptResult, Duration)
        case retry(DueRetry, AttemptResult, Duration)
        case tick
    }

    /// A held event due for another attempt.
    struct DueRetry: Sendable {
        let event: InboxEventRecord
        let chat: ChatKey
        let attempts: Int
        let firstFailedAt: Date?
    }

    private func forward(_ run: inout Run) async {
        await withTaskGroup(of: Completion.self) { group in
            addWaiter(to: &group)
            while !stopping.isSet {
                guard await step(&run, group: &group) else { break }
                guard let completion = await group.next() else { break }
                switch completion {
                case .tick:
                    run.mayHaveMore = true
                    if !stopping.isSet { addWaiter(to: &group) }
                case .live(let event, let result, let took):
                    finishLive(event, result, took, &run)
                case .retry(let due, let result, let took):
                    finishRetry(due, result, took, &run)
                }
            }
            // Stopping or no longer ours: attempts in flight are abandoned (sent again later).
            group.cancelAll()
            wake.signal()
            while await group.next() != nil {}
        }
        if !stopping.isSet { return }
        _ = await save(&run)
    }

    /// The child that returns `.tick` at the next wake-up (a commit, a stop) or after `idlePoll`.
    private func addWaiter(to group: inout TaskGroup<Completion>) {
        group.addTask { [wake, settings] in
            await wake.wait(timeout: settings.idlePoll)
            return .tick
        }
    }

    /// One attempt to send `event`, and how long it took.
    private static func attempt(_ event: InboxEventRecord, with sender: WebhookSender) async -> (AttemptResult, Duration) {
        let started = ContinuousClock.now
        let result = await sender.send(id: eventId(event), body: event.json)
        return (result, ContinuousClock.now - started)
    }

    /// Saves, reads, polls retries and dispatches; false when the target is no longer ours.
    private func step(_ run: inout Run, group: inout TaskGroup<Completion>) async -> Bool {
        let now = ContinuousClock.now
        let sinceSave = now - run.lastSave
        let news = !run.changes.isEmpty || run.reachedPosition > run.position
        // A held chat whose event just went through (or was given up) goes on with its next one at
        // once: saving that is what lets the next be sent, so it is not held back for the interval.
        let chatWaits = !run.mayBeClear.isEmpty
        // Progress at most every saveInterval (holds and due retries at once); the lease renewed
        // well before it runs out even when nothing happens.
        if (news && (sinceSave >= settings.saveInterval || !run.changes.held.isEmpty || chatWaits || now >= run.nextRetryPoll))
            || sinceSave > .seconds(settings.lease / 3) {
            guard await save(&run) else { return false }
        }
        await readMore(&run)
        if ContinuousClock.now >= run.nextRetryPoll, run.changes.retried.isEmpty, run.changes.held.isEmpty {
            await pollRetries(&run, group: &group)
        }
        dispatch(&run, group: &group)
        return true
    }

    /// Writes what changed since the last save; false when another node holds the lease now.
    private func save(_ run: inout Run) async -> Bool {
        var changes = run.changes
        let position = run.reachedPosition
        if position > run.position { changes.forwardedThrough = position }
        do {
            guard try await ledger.saveForwarding(changes, target: target.name, holder: holder, lease: settings.lease) else {
                logger.notice("another node forwards this target now", metadata: ["target": "\(target.name)"])
                return false
            }
        } catch {
            // Kept and saved with the next; past the lease another node may take over, which the
            // next save notices.
            if !run.saveFailing {
                logger.warning("forwarding progress not saved yet", metadata: ["target": "\(target.name)", "error": "\(error)"])
            }
            run.saveFailing = true
            return true
        }
        if run.saveFailing { logger.notice("forwarding progress is saved again", metadata: ["target": "\(target.name)"]) }
        run.saveFailing = false
        run.position = max(run.position, position)
        run.changes = ForwardingChanges()
        run.lastSave = ContinuousClock.now
        // A chat whose retried event went through is free once the ledger holds nothing more of it.
        if !run.mayBeClear.isEmpty {
            let chats = run.mayBeClear
            run.mayBeClear.removeAll()
            if let stillHeld = try? await pool.read({ [target] db in try ForwardingQueries.heldChats(of: target.name, among: chats, in: db) }) {
                for chat in chats where !stillHeld.contains(chat) && !run.retrying.contains(chat) { run.held.remove(chat) }
            }
            run.nextRetryPoll = ContinuousClock.now
        }
        return true
    }

    /// Reads the log after what was read, while the window has room.
    private func readMore(_ run: inout Run) async {
        guard run.mayHaveMore, run.unfinished.count < settings.window, !run.down else { return }
        let (after, limit, scope, types) = (run.readThrough, settings.pageSize, target.scope, target.types)
        let page: (events: [InboxEventRecord], scannedThrough: Int64)
        do {
            page = try await pool.read { db in try InboxEventLog.read(in: db, after: after, limit: limit, scope: scope, types: types) }
        } catch {
            return  // the next step tries again
        }
        for event in page.events {
            let chat = ChatKey(session: event.sessionId, chat: event.chat)
            run.unfinished.append(event.seq)
            if run.held.contains(chat) {
                run.changes.held.append(HeldForwardingEvent(seq: event.seq, chat: chat))
                run.finished.insert(event.seq)
                continue
            }
            if run.queues[chat] == nil {
                run.queues[chat] = FIFO()
                if !run.busy.contains(chat) { run.ready.append(chat) }
            }
            run.queues[chat]!.append(event)
        }
        run.readThrough = page.scannedThrough
        run.mayHaveMore = page.events.count == limit
    }

    /// Starts the due retries: the first held event of each chat not being retried already.
    private func pollRetries(_ run: inout Run, group: inout TaskGroup<Completion>) async {
        run.nextRetryPoll = ContinuousClock.now + settings.idlePoll
        let room = ingestBusy() ? min(1, target.concurrency - run.inFlight) : target.concurrency - run.inFlight
        guard room > 0 else { return }
        let exclude = run.retrying
        let due: [DueRetry]
        do {
            due = try await pool.read { [target] db in
                try ForwardingQueries.dueRetries(of: target.name, now: Date(), excluding: exclude, limit: room, in: db)
            }
        } catch {
            return
        }
        for retry in due {
            run.retrying.insert(retry.chat)
            run.held.insert(retry.chat)
            run.inFlight += 1
            let sender = sender
            group.addTask {
                let (result, took) = await Self.attempt(retry.event, with: sender)
                return .retry(retry, result, took)
            }
        }
    }

    /// Starts the next event of each ready chat, up to the concurrency limit.
    private func dispatch(_ run: inout Run, group: inout TaskGroup<Completion>) {
        var limit = target.concurrency
        if ingestBusy() {
            guard ContinuousClock.now >= run.nextPaced else { return }
            run.nextPaced = ContinuousClock.now + .milliseconds(20)
            limit = min(limit, run.inFlight + 1)
        }
        if run.down {
            // One probe at a time, every probeInterval.
            guard run.liveInFlight == 0, ContinuousClock.now >= run.nextProbe else { return }
            limit = run.inFlight + 1
            run.nextProbe = ContinuousClock.now + probeInterval
        }
        while run.inFlight < limit, let chat = run.ready.popFirst() {
            guard let event = run.queues[chat]?.popFirst() else { continue }
            run.busy.insert(chat)
            run.inFlight += 1
            run.liveInFlight += 1
            let sender = sender
            group.addTask {
                let (result, took) = await Self.attempt(event, with: sender)
                return .live(event, result, took)
            }
        }
    }

    private func finishLive(_ event: InboxEventRecord, _ result: AttemptResult, _ took: Duration, _ run: inout Run) {
        guard !stopping.isSet else { return }
        run.inFlight -= 1
        run.liveInFlight -= 1
        let chat = ChatKey(session: event.sessionId, chat: event.chat)
        run.busy.remove(chat)
        run.finished.insert(event.seq)
        observer.attempt(target: target.name, delivered: result == .delivered, duration: took)
        if result == .delivered {
            run.changes.delivered += 1
            run.changes.lastDeliveredAt = Date()
            noteHealthy(&run)
            if let queue = run.queues[chat], !queue.isEmpty { run.ready.append(chat) } else { run.queues[chat] = nil }
            return
        }
        // Held: this event (attempted once) and everything queued behind it in its chat.
        let now = Date()
        noteFailure(result, &run)
        if case .transient(_, _, let retryAfter) = result {
            run.unanswered += 1
            if run.unanswered >= 3, !run.down {
                run.down = true
                logger.warning("the target seems down: its backlog waits, one event probes it", metadata: [
                    "target": "\(target.name)", "probe_every_s": "\(probeInterval.seconds)",
                ])
            }
            if run.down { run.nextProbe = ContinuousClock.now + max(probeInterval, .seconds(retryAfter ?? 0)) }
        } else {
            run.unanswered = 0  // it answered: up, refusing this one
        }
        let next = RetryPolicy.nextAttempt(after: result, attempts: 1, firstFailedAt: now, retryFor: target.retryFor.seconds, now: now,
                                           firstPause: target.firstRetryPause.seconds)
        run.changes.held.append(HeldForwardingEvent(seq: event.seq, chat: chat, attempts: 1, nextAttemptAt: next ?? now,
                                                    error: result.error, status: result.status))
        for queued in run.queues[chat]?.removeAll() ?? [] {
            run.changes.held.append(HeldForwardingEvent(seq: queued.seq, chat: chat))
            run.finished.insert(queued.seq)
        }
        run.queues[chat] = nil
        run.held.insert(chat)
    }

    private func finishRetry(_ due: DueRetry, _ result: AttemptResult, _ took: Duration, _ run: inout Run) {
        guard !stopping.isSet else { return }
        run.inFlight -= 1
        run.retrying.remove(due.chat)
        observer.attempt(target: target.name, delivered: result == .delivered, duration: took)
        let attempts = due.attempts + 1
        if result == .delivered {
            run.changes.delivered += 1
            run.changes.lastDeliveredAt = Date()
            run.changes.retried.append((due.event.seq, .delivered))
            run.mayBeClear.insert(due.chat)
            noteHealthy(&run)
            return
        }
        noteFailure(result, &run)
        let now = Date()
        if let next = RetryPolicy.nextAttempt(after: result, attempts: attempts, firstFailedAt: due.firstFailedAt ?? now,
                                              retryFor: target.retryFor.seconds, now: now, firstPause: target.firstRetryPause.seconds) {
            run.changes.retried.append((due.event.seq, .retry(attempts: attempts, at: next, error: result.error, status: result.status)))
        } else {
            run.changes.retried.append((due.event.seq, .dead(attempts: attempts, error: result.error, status: result.status)))
            run.mayBeClear.insert(due.chat)
            observer.deadLetter(target: target.name)
            // The first at once, then a count at most once a minute (a CRM that refuses everything
            // must not flood the log).
            run.deadUnlogged += 1
            if run.lastDeadLog.map({ ContinuousClock.now - $0 >= .seconds(60) }) ?? true {
                logger.warning("events given up on: dead letters until re-sent", metadata: [
                    "target": "\(target.name)", "count": "\(run.deadUnlogged)", "last_seq": "\(due.event.seq)",
                    "last_type": "\(due.event.type)", "attempts": "\(attempts)", "error": "\(result.error)",
                ])
                run.deadUnlogged = 0
                run.lastDeadLog = ContinuousClock.now
            }
        }
    }

    private func noteFailure(_ result: AttemptResult, _ run: inout Run) {
        run.changes.failedAttempts += 1
        run.changes.lastError = result.error
        run.changes.lastErrorAt = Date()
        if !run.failing {
            logger.warning("forwarding attempts fail; events wait and are retried", metadata: [
                "target": "\(target.name)", "error": "\(result.error)",
            ])
        }
        run.failing = true
    }

    private func noteHealthy(_ run: inout Run) {
        if run.failing { logger.notice("forwarding delivers again", metadata: ["target": "\(target.name)"]) }
        run.failing = false
        run.unanswered = 0
        if run.down { wake.signal() }  // the backlog is read again at once
        run.down = false
    }

    /// How often a target that is down is probed: 10 s (shorter when its retries start sooner).
    private var probeInterval: Duration {
        min(.seconds(10), target.firstRetryPause * 5)
    }

    /// The event's id: `webhook-id`, the same on every attempt.
    static func eventId(_ event: InboxEventRecord) -> String {
        // The model writes `id` first: {"id":"evt_…",…
        let prefix = Array(#"{"id":""#.utf8)
        let json = event.json
        guard json.starts(with: prefix), let end = json[prefix.count...].firstIndex(of: UInt8(ascii: "\"")) else {
            preconditionFailure("an event's JSON starts with its id")
        }
        return String(decoding: json[prefix.count..<end], as: UTF8.self)
    }
}

/// Set once, read from any thread.
final class StopFlag: Sendable {
    private let flag = Synchronization.Atomic<Bool>(false)
    func set() { flag.store(true, ordering: .relaxed) }
    var isSet: Bool { flag.load(ordering: .relaxed) }
}

extension Duration {
    var seconds: TimeInterval {
        TimeInterval(components.seconds) + TimeInterval(components.attoseconds) / 1e18
    }
}

/// What forwarding reports as it goes (metrics).
public protocol ForwardingObserver: Sendable {
    func attempt(target: String, delivered: Bool, duration: Duration)
    func deadLetter(target: String)
}
