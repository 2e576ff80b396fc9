import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// The threads forwarding's work runs on — its reads of the event log and its HTTP client — at a
/// lower scheduling priority (nice 10) than the webhooks' and the API's: while webhooks arrive
/// as fast as the machine takes them, forwarding gets what CPU is left and its backlog waits in
/// the database; when they slow down it drains at full speed.
final class BackgroundThreads: Sendable {
    let eventLoopGroup: MultiThreadedEventLoopGroup
    let threadPool: NIOThreadPool

    init() {
        eventLoopGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        threadPool = NIOThreadPool(numberOfThreads: 1)
        threadPool.start()
        // On Linux, PRIO_PROCESS with 0 sets the calling thread's nice value.
        eventLoopGroup.next().execute { Self.lowerPriority() }
        threadPool.submit { _ in Self.lowerPriority() }
    }

    private static func lowerPriority() {
        #if os(Linux)
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 10)
        #endif
    }

    func shutdown() async {
        try? await threadPool.shutdownGracefully()
        try? await eventLoopGroup.shutdownGracefully()
    }
}
