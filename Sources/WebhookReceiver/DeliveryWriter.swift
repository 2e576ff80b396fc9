import Foundation
import InboxStore
import Logging
import ServiceLifecycle
import Synchronization

/// The single writer: a dedicated thread that drains queued deliveries into the database in
/// batches, one transaction per batch (group commit), and answers each waiting request only after
/// the commit that holds its delivery.
///
/// A thread rather than a task because SQLite calls block: on Swift's cooperative pool (two threads
/// on a two-core machine) they would stall request handling.
///
/// The queue is bounded by count and by bytes: when it is full a webhook is refused at once
/// (`IngestFailure.busy`, 503 + Retry-After, the gateway retries) rather than held in memory. Nothing
/// that was queued is ever dropped: on shutdown the thread commits all of it before it exits.
public final class DeliveryWriter: DeliveryIngest, Service, @unchecked Sendable {
    /// Limits and housekeeping the writer applies.
    public struct Settings: Sendable {
        /// The most deliveries one transaction takes.
        public var maxBatch = 512
        /// The most deliveries waiting for the writer.
        public var maxQueuedDeliveries = 4096
        /// The most body bytes waiting for the writer.
        public var maxQueuedBytes = 32 << 20
        /// How often failed deliveries are checked for a due retry, and housekeeping runs.
        public var housekeepingInterval: TimeInterval = 1
        /// Receipts waiting longer than this for their message are moved out of `pending_acks`.
        public var pendingAckExpiry: TimeInterval = 7 * 86_400
        /// Bodies of applied deliveries older than this are emptied; nil keeps every body.
        public var retainBodies: TimeInterval?

        public init() {}
    }

    private struct Pending {
        let delivery: IncomingDelivery
        // Unsafe (unchecked) continuations: each is resumed exactly once, by the commit that
        // holds its delivery or by the refusal paths; the checked kind costs a lock and a
        // bookkeeping allocation per webhook.
        let continuation: UnsafeContinuation<DeliveryResult, any Error>
    }

    /// Work for the writer thread, and how to refuse it if the writer never runs.
    private struct WriterTask {
        let run: (InboxWriter) -> Void
        let refuse: () -> Void
    }

    private let host: any WriterHost
    private let settings: Settings
    private let logger: Logger
    private let onCommit: CommitObserver

    // Guarded by `condition`.
    private let condition = NSCondition()
    /// When (uptime ns) the last batch of several deliveries committed.
    private let lastBusyBatch = Atomic<UInt64>(0)
    private var queue: [Pending] = []
    private var queuedBytes = 0
    private var tasks: [WriterTask] = []
    private var stopping = false
    private var unavailable = false
    private var lastCommitFailed = false
    /// Housekeeping found the database unreachable (writer thread only): said once, not each second.
    private var housekeepingUnreachable = false
    private var finished: CheckedContinuation<Void, Never>?

    /// - Parameter onCommit: called on the writer thread after each commit, with what it stored.
    public init(
        host: any WriterHost, settings: Settings = Settings(), logger: Logger,
        onCommit: @escaping CommitObserver = { _, _ in }
    ) {
        self.host = host
        self.settings = settings
        self.logger = logger
        self.onCommit = onCommit
    }

    /// Queues a delivery and waits until it is committed.
    public func submit(_ delivery: IncomingDelivery) async throws -> DeliveryResult {
        try await withUnsafeThrowingContinuation { continuation in
            condition.lock()
            defer { condition.unlock() }
            guard !stopping, !unavailable else {
                continuation.resume(throwing: IngestFailure.unavailable)
                return
            }
            guard queue.count < settings.maxQueuedDeliveries,
                  queue.isEmpty || queuedBytes + delivery.body.count <= settings.maxQueuedBytes
            else {
                continuation.resume(throwing: IngestFailure.busy)
                return
            }
            queue.append(Pending(delivery: delivery, continuation: continuation))
            queuedBytes += delivery.body.count
            condition.signal()
        }
    }

    /// Runs `work` on the writer thread between two batches and returns its result. For
    /// maintenance that must go through the one writer (e.g. a replay asked for over HTTP);
    /// keep each piece short, it holds up webhooks while it runs.
    public func perform<T: Sendable>(_ work: @escaping @Sendable (InboxWriter) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            condition.lock()
            defer { condition.unlock() }
            guard !stopping, !unavailable else {
                continuation.resume(throwing: IngestFailure.unavailable)
                return
            }
            tasks.append(WriterTask(
                run: { writer in continuation.resume(with: Result { try work(writer) }) },
                refuse: { continuation.resume(throwing: IngestFailure.unavailable) }
            ))
            condition.signal()
        }
    }

    public var engine: StoreEngine { host.engine }

    /// False when the database could not be opened or the last batch did not commit.
    public var isReachable: Bool {
        condition.lock()
        defer { condition.unlock() }
        return !unavailable && !lastCommitFailed
    }

    /// Deliveries waiting for the writer.
    public var backlog: Int {
        condition.lock()
        defer { condition.unlock() }
        return queue.count
    }

    /// Whether webhooks arrive faster than one commit at a time: some wait for the writer now, or
    /// a batch of several committed in the last 100 ms. Background work (forwarding) yields while
    /// it is so.
    public var isBusy: Bool {
        let since = DispatchTime.now().uptimeNanoseconds &- lastBusyBatch.load(ordering: .relaxed)
        return since < 100_000_000 || backlog > 0
    }

    /// Runs the writer thread until graceful shutdown, then drains the queue and returns.
    public func run() async throws {
        let writer: InboxWriter
        do {
            writer = try host.makeWriter()
        } catch {
            logger.critical("cannot open the database for writing", metadata: ["error": "\(error)"])
            failAll()
            throw error
        }
        let checkpointer = host.makeCheckpointer()
        try checkpointer?.start()
        defer {
            checkpointer?.stop()
            // Written, drained and checkpointed: another process may own the database now.
            host.release()
        }
        let sendableWriter = UncheckedBox(writer)
        await withGracefulShutdownHandler {
            await withTaskCancellationHandler {
                await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                    condition.lock()
                    finished = done
                    condition.unlock()
                    let thread = Thread { [self] in
                        nameCurrentThread("inbox-writer")
                        loop(sendableWriter.value, checkpointer: checkpointer)
                    }
                    thread.start()
                }
            } onCancel: {
                stop()
            }
        } onGracefulShutdown: {
            self.stop()
        }
        logger.info("writer drained and stopped")
    }

    /// Stops taking new deliveries; the thread finishes what is queued, then exits.
    public func stop() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
    }

    /// Refuses everything queued and everything to come: the writer cannot run.
    private func failAll() {
        condition.lock()
        unavailable = true
        let queued = queue
        let pendingTasks = tasks
        queue.removeAll()
        tasks.removeAll()
        queuedBytes = 0
        condition.unlock()
        for pending in queued {
            pending.continuation.resume(throwing: IngestFailure.unavailable)
        }
        for task in pendingTasks {
            task.refuse()
        }
    }

    // MARK: - The writer thread

    private func loop(_ writer: InboxWriter, checkpointer: WALCheckpointer?) {
        var nextHousekeeping = Date()
        while true {
            condition.lock()
            while queue.isEmpty, tasks.isEmpty, !stopping, Date() < nextHousekeeping {
                _ = condition.wait(until: nextHousekeeping)
            }
            if queue.isEmpty, tasks.isEmpty, stopping {
                let done = finished
                finished = nil
                condition.unlock()
                done?.resume()
                return
            }
            let count = min(queue.count, settings.maxBatch)
            let batch = Array(queue.prefix(count))
            queue.removeFirst(count)
            queuedBytes -= batch.reduce(0) { $0 + $1.delivery.body.count }
            let work = tasks
            tasks.removeAll()
            condition.unlock()

            if !batch.isEmpty {
                commit(batch, writer: writer)
            }
            for task in work { task.run(writer) }
            if checkpointer?.takeRewindRequest() == true {
                do { try writer.checkpoint() } catch { logger.warning("WAL checkpoint failed", metadata: ["error": "\(error)"]) }
            }
            if Date() >= nextHousekeeping {
                let more = housekeeping(writer)
                nextHousekeeping = more ? Date() : Date().addingTimeInterval(settings.housekeepingInterval)
            }
        }
    }

    /// Due retries, expired receipts and retention, each a short transaction; true when a step
    /// had more to do than one pass takes. Its first step also tells `isReachable` whether the
    /// database answers while no webhook arrives.
    private func housekeeping(_ writer: InboxWriter) -> Bool {
        var more = false
        let now = Date()
        do {
            let retried = try writer.retryDueFailures(now: now)
            noteCommit(failed: false)
            if housekeepingUnreachable { logger.notice("housekeeping reaches the database again") }
            housekeepingUnreachable = false
            if retried > 0 { logger.info("retried failed deliveries", metadata: ["count": "\(retried)"]) }
            more = more || retried >= 100
        } catch let error as any DatabaseError where error.isTransient {
            // Unreachable or busy: nothing else can commit either. Said once, not every second,
            // until the database answers again; the next round tries again.
            noteCommit(failed: true)
            if !housekeepingUnreachable { logger.warning("housekeeping waits for the database", metadata: ["error": "\(error)"]) }
            housekeepingUnreachable = true
            return false
        } catch {
            noteCommit(failed: true)
            logger.warning("retrying failed deliveries did not commit", metadata: ["error": "\(error)"])
        }
        do {
            let expired = try writer.expirePendingAcks(receivedBefore: now.addingTimeInterval(-settings.pendingAckExpiry), now: now)
            if expired > 0 { logger.notice("expired receipts whose message never arrived", metadata: ["count": "\(expired)"]) }
            more = more || expired >= 500
        } catch {
            logger.warning("expiring pending receipts did not commit", metadata: ["error": "\(error)"])
        }
        if let retain = settings.retainBodies {
            do {
                let cleared = try writer.removeOldBodies(receivedBefore: now.addingTimeInterval(-retain), now: now)
                more = more || cleared >= 250
            } catch {
                logger.warning("removing old bodies did not commit", metadata: ["error": "\(error)"])
            }
        }
        return more
    }

    private func noteCommit(failed: Bool) {
        condition.lock()
        lastCommitFailed = failed
        condition.unlock()
    }

    private func commit(_ batch: [Pending], writer: InboxWriter) {
        let deliveries = batch.map(\.delivery)
        if batch.count >= 4 { lastBusyBatch.store(DispatchTime.now().uptimeNanoseconds, ordering: .relaxed) }
        do {
            let results = try writer.commit(deliveries)
            noteCommit(failed: false)
            for (pending, result) in zip(batch, results) {
                pending.continuation.resume(returning: result)
            }
            onCommit(deliveries, results)
        } catch {
            noteCommit(failed: true)
            logger.error(
                "batch did not commit; senders will retry",
                metadata: ["batch": "\(batch.count)", "error": "\(error)"]
            )
            for pending in batch {
                pending.continuation.resume(throwing: IngestFailure.unavailable)
            }
        }
    }
}

/// Administration through the writer thread, between two batches.
extension DeliveryWriter: StoreAdministration {
    public func replayChunk(status: DeliveryStatus, after: Int64, chunk: Int, within scope: SessionScope) async throws
        -> (summary: ReplaySummary, lastId: Int64)? {
        try await perform { try $0.replayChunk(status: status, after: after, chunk: chunk, within: scope) }
    }

    public func createToken(name: String, role: TokenRole, scope: SessionScope, expiresAt: Date?, within creator: SessionScope) async throws
        -> (token: APIToken, secret: String) {
        try await perform { try $0.createToken(name: name, role: role, scope: scope, expiresAt: expiresAt, within: creator) }
    }

    public func revokeToken(_ idOrName: String, within scope: SessionScope) async throws -> APIToken {
        try await perform { try $0.revokeToken(idOrName, within: scope) }
    }

    public func listTokens(within scope: SessionScope) async throws -> [APIToken] {
        try await perform { try $0.listTokens(within: scope) }
    }

    public func recordTokenUse(_ uses: [Int64: Date]) async throws {
        try await perform { try $0.recordTokenUse(uses) }
    }
}

/// Moves a non-Sendable value to the one thread that will use it from then on.
struct UncheckedBox<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
