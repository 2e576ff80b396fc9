// swift-tools-version:6.0
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "inboxlite",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "inboxlite", targets: ["inboxlite"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird", exact: "2.28.1"),
        .package(url: "https://github.com/apple/swift-crypto", exact: "4.5.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", exact: "2.13.0"),
        .package(url: "https://github.com/apple/swift-http-types", exact: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus", exact: "2.4.1"),
        .package(url: "https://github.com/vapor/postgres-nio", exact: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", exact: "2.37.6"),
        .package(url: "https://github.com/swift-server/async-http-client", exact: "1.37.0"),
    ],
    targets: [
        /// The system SQLite library (Debian: libsqlite3-dev).
        .systemLibrary(
            name: "CSQLite",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        /// Gateway decoding only: the strict JSON parser, the four dialects and the typed events
        /// they produce. Depends on nothing but Foundation; fuzzed and unit-tested on its own.
        .target(
            name: "InboxEvents",
            swiftSettings: swiftSettings
        ),
        /// Owns the database: SQLite access, migrations and the rules that apply decoded events to
        /// tables. Knows nothing about HTTP.
        .target(
            name: "InboxStore",
            dependencies: [
                "InboxEvents",
                "CSQLite",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        /// The PostgreSQL engine: its location, migrations and (to come) its writer and readers.
        .target(
            name: "InboxPostgres",
            dependencies: [
                "InboxStore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        /// What every HTTP surface shares: JSON error responses and helpers.
        .target(
            name: "InboxHTTP",
            dependencies: [
                "InboxStore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        /// Webhook verification, the batching writer service and the webhook routes.
        .target(
            name: "WebhookReceiver",
            dependencies: [
                "InboxStore",
                "InboxEvents",
                "InboxHTTP",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        /// The read-only query API: read-only connections, pagination, authentication.
        .target(
            name: "InboxQuery",
            dependencies: [
                "InboxStore",
                "InboxEvents",
                "InboxHTTP",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        /// Forwarding the event log to CRMs: Standard Webhooks signing, per-chat order, retries,
        /// dead letters, and the routes that show them.
        .target(
            name: "InboxForwarding",
            dependencies: [
                "InboxStore",
                "InboxEvents",
                "InboxQuery",
                "InboxHTTP",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        /// Configuration and `buildApplication`, shared by the command line and the tests.
        .target(
            name: "InboxLite",
            dependencies: [
                "InboxStore",
                "InboxPostgres",
                "InboxEvents",
                "InboxHTTP",
                "InboxQuery",
                "InboxForwarding",
                "WebhookReceiver",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "inboxlite",
            dependencies: [
                "InboxEvents",
                "InboxForwarding",
                "InboxLite",
                "InboxPostgres",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        /// Benchmarks of the store alone and of the HTTP path alone (`scripts/bench-*.sh` run it in
        /// release mode).
        .executableTarget(
            name: "inboxlite-bench",
            dependencies: [
                "InboxEvents",
                "InboxStore",
                "InboxPostgres",
                "InboxHTTP",
                "WebhookReceiver",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "InboxEventsTests",
            dependencies: ["InboxEvents"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "InboxStoreTests",
            dependencies: ["InboxEvents", "InboxStore", "CSQLite"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "InboxPostgresTests",
            dependencies: [
                "InboxPostgres",
                "InboxQuery",
                "InboxStore",
                "InboxEvents",
                "WebhookReceiver",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "InboxLiteTests",
            dependencies: [
                "InboxEvents",
                "InboxForwarding",
                "InboxLite",
                "InboxPostgres",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
