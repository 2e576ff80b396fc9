import InboxStore
import Logging
import PostgresNIO

/// PostgreSQL's LISTEN/NOTIFY as the wake-up of other nodes' live streams: each writer's
/// transaction that stored deliveries sends a notification on `channel` (delivered at commit,
/// never for a rollback); every node listens on a connection of its own and reads the delivery
/// log when one arrives. The notification carries nothing: the log is the truth.
public struct PostgresCommitNotifications: Sendable {
    public static let channel = SQLDialect.deliveriesCommittedChannel

    let location: PostgresLocation
    let logger: Logger

    public init(location: PostgresLocation, logger: Logger) {
        self.location = location
        self.logger = logger
    }

    /// Listens until cancelled, calling `onNotification` for each notification and once each time
    /// listening (re)starts (notifications sent while it was not listening are lost). A lost
    /// connection is opened again a second later.
    public func listen(onNotification: @escaping @Sendable () -> Void) async {
        var failing = false
        while !Task.isCancelled {
            do {
                let connection = try await location.connect(logger: logger)
                do {
                    try await withTaskCancellationHandler {
                        try await connection.listen(on: Self.channel) { notifications in
                            if failing { logger.notice("listening for other nodes' commits again") }
                            failing = false
                            onNotification()
                            for try await _ in notifications { onNotification() }
                        }
                    } onCancel: {
                        let closing: EventLoopFuture<Void> = connection.close()
                        closing.whenComplete { _ in }
                    }
                } catch {
                    try? await connection.close()
                    throw error
                }
                try? await connection.close()
            } catch {
                if Task.isCancelled { return }
                if !failing {
                    // PSQLError's own description hides everything; ours names the server's reason, never a value.
                    let reason = (error as? PSQLError).map { "\(PostgresStoreError($0))" } ?? "\(error)"
                    logger.warning("cannot listen for other nodes' commits; their live events come within a second anyway",
                                   metadata: ["error": "\(reason)"])
                }
                failing = true
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }
}
