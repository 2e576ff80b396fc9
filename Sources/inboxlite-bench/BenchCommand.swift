import ArgumentParser

/// `inboxlite-bench`: benchmarks that need the store's own write path (not HTTP).
@main
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inboxlite-bench",
        abstract: "InboxLite benchmarks (run in release mode).",
        subcommands: [WriterBenchmark.self, FillBenchmark.self, HTTPCeilingBenchmark.self, ReceiverBenchmark.self]
    )
}
