import Foundation
import InboxHTTP
import InboxQuery
import InboxStore
import Logging
import ServiceLifecycle

/// Forwards the inbox's events to every configured target, each by its own `TargetForwarder`.
///
/// A service: it starts with the application and, on SIGTERM, abandons attempts in flight (they
/// are sent again after a restart: at least once), saves its progress through the writer (which
/// stops after it) and gives up its leases, all within the shutdown grace.
public final class Forwarder: Service, Sendable {
    private let forwarders: [TargetForwarder]
    private let background = BackgroundThreads()

    /// - Parameters:
    ///   - startAfter: where a target seen for the first time starts (the log's head when the
    ///     process started).
    ///   - engine, openReader: how to open read connections; forwarding reads on its own
    ///     low-priority thread.
    ///   - ingestBusy: whether webhooks are waiting for the writer now (forwarding then yields).
    public init(targets: [ForwardTarget], startAfter: Int64, engine: StoreEngine, openReader: @escaping ReadPool.Opener,
                ledger: any ForwardingLedger, ingestBusy: @escaping @Sendable () -> Bool, observer: any ForwardingObserver, logger: Logger) {
        let pool = ReadPool(engine: engine, maxPending: 8 * max(1, targets.count), threadPool: background.threadPool, open: openReader)
        let eventLoopGroup = background.eventLoopGroup
        // One name per process on leases: host, process and a random part (a restarted process is another holder).
        let holder = "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier):\(UInt32.random(in: 0...UInt32.max))"
        forwarders = targets.map {
            TargetForwarder(target: $0, startAfter: startAfter, pool: pool, eventLoopGroup: eventLoopGroup, ledger: ledger, holder: holder,
                            ingestBusy: ingestBusy, observer: observer, logger: logger)
        }
    }

    /// New events were committed: look at the log now rather than at the next poll.
    public func wake() {
        for forwarder in forwarders { forwarder.wake.signal() }
    }

    public func run() async throws {
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                for forwarder in forwarders {
                    group.addTask { await forwarder.run() }
                }
            }
        } onGracefulShutdown: {
            for forwarder in self.forwarders { forwarder.stop() }
        }
        await background.shutdown()
    }
}

extension InboxMetrics: ForwardingObserver {
    public func attempt(target: String, delivered: Bool, duration: Duration) {
        forwardingAttempt(target: target, delivered: delivered, duration: duration)
    }

    public func deadLetter(target: String) {
        forwardingDeadLetter(target: target)
    }
}
