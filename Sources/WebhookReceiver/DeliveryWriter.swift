import Foundation
import InboxStore
import Logging
import ServiceLifecycle

/// The single writer: a dedicated thread that drains queued deliveries into the database in
/// batches, one transaction per batch (group commit), and answers each waiting request only after
/// the commit that holds its delivery.
///
/// A thread rather than a task because SQLite calls block: on Swift's cooperative pool (two threads
/// on a two-core machine) they would stall request handling.
public final class DeliveryWriter: Service, @unchecked Sendable {
    /// Why a submission was not stored.
    public enum Failure: Error, Equatable {
        /// The database refused the batch (busy, full, read-only) or the writer is stopping.
        case unavailable
    }

    private struct Pending {
        let delivery: IncomingDelivery
        let continuation: CheckedContinuation<DeliveryResult, any Error>
    }

    private let store: StoreConfiguration
    private let maxBatch: Int
    private let retryInterval: TimeInterval
    private let logger: Logger
    private let onCommit: @Sendable ([IncomingDelivery], [DeliveryResult]) -> Void

    // Guarded by `condition`.
    private let condition = NSCondition()
    private var queue: [Pending] = []
    private var stopping = false
    private var unavailable = false
    private var finished: CheckedContinuation<Void, Never>?

    /// - Parameters:
    ///   - maxBatch: the most deliveries one transaction takes.
    ///   - retryInterval: how often failed deliveries are checked for a due retry.
    ///   - onCommit: called on the writer thread after each commit, with what it stored.
    public init(
        store: StoreConfiguration, maxBatch: Int = 512, retryInterval: TimeInterval = 1, logger: Logger,
        onCommit: @escaping @Sendable ([IncomingDelivery], [DeliveryResult]) -> Void = { _, _ in }
    ) {
        self.store = store
        self.maxBatch = maxBatch
        self.retryInterval = retryInterval
        self.logger = logger
        self.onCommit = onCommit
    }

    /// Queues a delivery and waits until it is committed.
    public func submit(_ delivery: IncomingDelivery) async throws -> DeliveryResult {
        try await withCheckedThrowingContinuation { continuation in
            condition.lock()
            defer { condition.unlock() }
            guard !stopping, !unavailable else {
                continuation.resume(throwing: Failure.unavailable)
                return
            }
            queue.append(Pending(delivery: delivery, continuation: continuation))
            condition.signal()
        }
    }

    /// Deliveries waiting for the writer.
    public var queueDepth: Int {
        condition.lock()
        defer { condition.unlock() }
        return queue.count
    }

    /// Runs the writer thread until graceful shutdown, then drains the queue and returns.
    public func run() async throws {
        let writer: InboxWriter
        do {
            writer = try InboxWriter(store)
        } catch {
            logger.critical("cannot open the database for writing", metadata: ["error": "\(error)"])
            failAll()
            throw error
        }
        let checkpointer = WALCheckpointer(store: store)
        try checkpointer.start()
        defer { checkpointer.stop() }
        let sendableWriter = UncheckedBox(writer)
        await withGracefulShutdownHandler {
            await withTaskCancellationHandler {
                await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                    condition.lock()
                    finished = done
                    condition.unlock()
                    let thread = Thread { [self] in
                        loop(sendableWriter.value, checkpointer: checkpointer)
                    }
                    thread.name = "inboxlite-writer"
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
        queue.removeAll()
        condition.unlock()
        for pending in queued {
            pending.continuation.resume(throwing: Failure.unavailable)
        }
    }

    // MARK: - The writer thread

    private func loop(_ writer: InboxWriter, checkpointer: WALCheckpointer) {
        var nextRetryCheck = Date()
        while true {
            condition.lock()
            while queue.isEmpty, !stopping, Date() < nextRetryCheck.addingTimeInterval(retryInterval) {
                _ = condition.wait(until: nextRetryCheck.addingTimeInterval(retryInterval))
            }
            if queue.isEmpty, stopping {
                let done = finished
                finished = nil
                condition.unlock()
                done?.resume()
                return
            }
            let count = min(queue.count, maxBatch)
            let batch = Array(queue.prefix(count))
            queue.removeFirst(count)
            condition.unlock()

            if !batch.isEmpty {
                commit(batch, writer: writer)
            }
            if checkpointer.takeRewindRequest() {
                do { try writer.checkpoint() } catch { logger.warning("WAL checkpoint failed", metadata: ["error": "\(error)"]) }
            }
            if Date() >= nextRetryCheck.addingTimeInterval(retryInterval) {
                nextRetryCheck = Date()
                do {
                    let retried = try writer.retryDueFailures()
                    if retried > 0 { logger.info("retried failed deliveries", metadata: ["count": "\(retried)"]) }
                } catch {
                    logger.warning("retrying failed deliveries did not commit", metadata: ["error": "\(error)"])
                }
            }
        }
    }

    private func commit(_ batch: [Pending], writer: InboxWriter) {
        let deliveries = batch.map(\.delivery)
        do {
            let results = try writer.commit(deliveries)
            for (pending, result) in zip(batch, results) {
                pending.continuation.resume(returning: result)
            }
            onCommit(deliveries, results)
        } catch {
            logger.error(
                "batch did not commit; senders will retry",
                metadata: ["batch": "\(batch.count)", "error": "\(error)"]
            )
            for pending in batch {
                pending.continuation.resume(throwing: Failure.unavailable)
            }
        }
    }
}

/// Moves a non-Sendable value to the one thread that will use it from then on.
struct UncheckedBox<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
