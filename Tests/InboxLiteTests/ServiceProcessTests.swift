import Foundation
@testable import InboxStore
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The real `inboxlite` binary as an operator runs it: generated secrets, one writer per database,
/// replay and backup while it runs, logs, and SIGTERM with a stream open.
@Suite("The service as a process")
struct ServiceProcessTests {
    /// The `inboxlite` executable built next to the test bundle (`swift build --build-tests`).
    static var binary: URL {
        let candidates = [
            Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("inboxlite"),
            Bundle.main.bundleURL.appendingPathComponent("inboxlite"),
            TestInbox.migrations.deletingLastPathComponent().appendingPathComponent(".build/debug/inboxlite"),
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates.last!
    }

    /// Runs `inboxlite` with `arguments` to completion; returns exit code and combined output.
    static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("INBOXLITE_") }
            .merging(environment) { $1 }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test(.timeLimit(.minutes(2))) func sigtermWithAStreamOpenStopsCleanlyAndNothingLeaksIntoTheLog() async throws {
        #expect(FileManager.default.isExecutableFile(atPath: Self.binary.path), "build with swift build --build-tests first")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("inboxlite-process-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let database = folder.appendingPathComponent("data/inbox.sqlite").path
        let logFile = folder.appendingPathComponent("serve.log")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: logFile.path, contents: nil)

        // Started with stdout and stderr going to a file, as under systemd.
        let serve = Process()
        serve.executableURL = Self.binary
        serve.arguments = ["serve", "--db", database, "--port", "0", "--migrations", TestInbox.migrations.path, "--shutdown-grace", "3"]
        serve.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("INBOXLITE_") }
        let log = try FileHandle(forWritingTo: logFile)
        serve.standardOutput = log
        serve.standardError = log
        try serve.run()
        defer { if serve.isRunning { kill(serve.processIdentifier, SIGKILL) } }

        // The service says where it listens in its lock file.
        var url: String?
        for _ in 0..<400 where url == nil {
            url = StoreOwner.runningService(databasePath: database)?.url
            if url == nil { try await Task.sleep(for: .milliseconds(50)) }
        }
        let base = try #require(url, "the service did not start: \(String(decoding: (try? Data(contentsOf: logFile)) ?? Data(), as: UTF8.self))")
        let port = try #require(Int(base.split(separator: ":").last ?? ""))
        let dataFolder = folder.appendingPathComponent("data")
        let token = try String(contentsOf: dataFolder.appendingPathComponent("api-token"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let secret = try String(contentsOf: dataFolder.appendingPathComponent("webhook-secret"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)

        // A live stream, and a webhook that shows up on it.
        let stream = try RawHTTPConnection(port: port)
        stream.send(AuthenticationTests.get("/api/events", token: token))
        _ = await stream.read(timeout: 5) { $0.contains("\r\n\r\n") }
        let webhook = SignedWebhook(json: Payload.received(key: "P1"), secret: secret)
        #expect(try await RawHTTPConnection.request(port: port, webhook.rawRequest(path: "/webhooks/inbox-hub")).0 == 200)
        let ignored = SignedWebhook(json: Payload.envelope("conversation.created", data: "{}"), secret: secret)
        #expect(try await RawHTTPConnection.request(port: port, ignored.rawRequest(path: "/webhooks/inbox-hub")).0 == 200)
        let wrongToken = "GET /api/sessions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(token)x\r\nConnection: close\r\n\r\n"
        #expect(try await RawHTTPConnection.request(port: port, wrongToken).0 == 401)
        #expect(await stream.read(timeout: 5) { $0.contains("event: message.received") }.contains("id: 1"))

        // One writer: a second service on the same database stops at once with one clear line.
        let (secondCode, secondOutput) = try Self.run(["serve", "--db", database, "--port", "0", "--migrations", TestInbox.migrations.path])
        #expect(secondCode != 0)
        #expect(secondOutput.contains("already writing to \(database)"), "\(secondOutput)")
        // replay goes through the running service instead of writing itself.
        let (replayCode, replayOutput) = try Self.run(["replay", "--db", database, "--status", "ignored"])
        #expect(replayCode == 0, "\(replayOutput)")
        #expect(replayOutput.contains("through the running service at \(base): 1 ignored deliveries"), "\(replayOutput)")
        // A backup while it runs is a consistent, complete database.
        let copy = folder.appendingPathComponent("backup.sqlite").path
        let (backupCode, backupOutput) = try Self.run(["backup", "--db", database, "--to", copy])
        #expect(backupCode == 0, "\(backupOutput)")
        let backup = try InboxDatabase.openReader(StoreConfiguration(path: copy))
        #expect(try backup.queryFirst("PRAGMA integrity_check")?.string(0) == "ok")
        #expect(try backup.queryFirst("SELECT count(*) FROM messages")?.int(0) == 1)
        #expect(try backup.queryFirst("SELECT count(*) FROM webhook_deliveries")?.int(0) == 2)

        // SIGTERM with the stream still open: it ends with `event: shutdown` and the process exits 0.
        let stopping = ContinuousClock.now
        kill(serve.processIdentifier, SIGTERM)
        let ended = await stream.read(timeout: 10) { $0.contains("event: shutdown") }
        while serve.isRunning, ContinuousClock.now - stopping < .seconds(15) { try await Task.sleep(for: .milliseconds(20)) }
        let took = ContinuousClock.now - stopping
        #expect(!serve.isRunning)
        #expect(serve.terminationStatus == 0)
        #expect(took < .seconds(5), "stopped in \(took)")
        #expect(ended.contains("event: shutdown"))
        #expect(StoreOwner.runningService(databasePath: database) == nil, "the lock is released")
        let walSize = (try? FileManager.default.attributesOfItem(atPath: database + "-wal")[.size] as? Int) ?? 0
        #expect(walSize == 0, "the WAL was checkpointed")

        let logText = String(decoding: try Data(contentsOf: logFile), as: UTF8.self)
        #expect(logText.contains("generated webhook secret in \(dataFolder.path)/webhook-secret"), "\(logText)")
        #expect(logText.contains("generated API token in"))
        #expect(logText.contains("listening"))
        #expect(logText.contains("writer drained and stopped"))
        #expect(!logText.contains(secret), "the webhook secret never appears in the log")
        #expect(!logText.contains(token), "the API token never appears in the log")
    }
}
