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

    /// A started `inboxlite serve` and what a client needs to talk to it.
    struct RunningService {
        let process: Process
        let base: String
        let port: Int
        let token: String
        let secret: String
    }

    /// Starts `inboxlite serve` on a free port with its output going to `log`, and waits until
    /// it listens (it records its address in the lock file). Secrets are the generated ones.
    static func start(database: String, log logFile: URL, arguments: [String] = []) async throws -> RunningService {
        if !FileManager.default.fileExists(atPath: logFile.path) { _ = FileManager.default.createFile(atPath: logFile.path, contents: nil) }
        let serve = Process()
        serve.executableURL = binary
        serve.arguments = ["serve", "--db", database, "--port", "0", "--migrations", TestInbox.migrations.path] + arguments
        serve.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("INBOXLITE_") }
        let log = try FileHandle(forWritingTo: logFile)
        log.seekToEndOfFile()
        serve.standardOutput = log
        serve.standardError = log
        try serve.run()
        var url: String?
        for _ in 0..<400 where url == nil {
            url = StoreOwner.runningService(databasePath: database)?.url
            if url == nil { try await Task.sleep(for: .milliseconds(50)) }
        }
        guard let base = url, let port = Int(base.split(separator: ":").last ?? "") else {
            kill(serve.processIdentifier, SIGKILL)
            throw ServiceDidNotStart(log: String(decoding: (try? Data(contentsOf: logFile)) ?? Data(), as: UTF8.self))
        }
        let dataFolder = URL(fileURLWithPath: database).deletingLastPathComponent()
        func read(_ name: String) throws -> String {
            try String(contentsOf: dataFolder.appendingPathComponent(name), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return RunningService(process: serve, base: base, port: port, token: try read("api-token"), secret: try read("webhook-secret"))
    }

    struct ServiceDidNotStart: Error, CustomStringConvertible {
        let log: String
        var description: String { "the service did not start: \(log)" }
    }

    @Test(.timeLimit(.minutes(2))) func sigtermWithAStreamOpenStopsCleanlyAndNothingLeaksIntoTheLog() async throws {
        #expect(FileManager.default.isExecutableFile(atPath: Self.binary.path), "build with swift build --build-tests first")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("inboxlite-process-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let database = folder.appendingPathComponent("data/inbox.sqlite").path
        let logFile = folder.appendingPathComponent("serve.log")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)

        // Started with stdout and stderr going to a file, as under systemd.
        // Forwarding to a CRM that is not there (nothing listens on a fresh port), its URL carrying a
        // token, from a config file others may read.
        let closedPort = try RawHTTPConnection.freePort()
        let forwardSecret = "whsec_" + Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        let forwardConfig = folder.appendingPathComponent("forwarding.json")
        try #"{"targets": [{"name": "crm", "url": "http://127.0.0.1:\#(closedPort)/hook?token=crm-query-secret", "secret": "\#(forwardSecret)", "timeout_seconds": 0.5}]}"#
            .write(to: forwardConfig, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: forwardConfig.path)
        let service = try await Self.start(database: database, log: logFile, arguments: [
            "--shutdown-grace", "3", "--forward-config", forwardConfig.path,
        ])
        let (serve, base, port, token, secret) = (service.process, service.base, service.port, service.token, service.secret)
        defer { if serve.isRunning { kill(serve.processIdentifier, SIGKILL) } }
        let dataFolder = folder.appendingPathComponent("data")

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

        // Tokens while it runs: made through it, printed alone on the last line, usable at once,
        // listed without the token, revoked within a second.
        let (createCode, createOutput) = try Self.run(["token", "create", "--db", database, "--name", "crm", "--role", "read",
                                                       "--session", "sales", "--session", "crm"])
        #expect(createCode == 0 && createOutput.contains("sessions crm, sales"), "\(createOutput)")
        let minted = String(createOutput.split(separator: "\n").last ?? "")
        #expect(minted.hasPrefix("il_") && minted.count == 51, "\(createOutput)")
        let readWith = { (token: String) in "GET /api/sessions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(token)\r\nConnection: close\r\n\r\n" }
        #expect(try await RawHTTPConnection.request(port: port, readWith(minted)).0 == 200)
        let (listCode, listOutput) = try Self.run(["token", "list", "--db", database])
        #expect(listCode == 0 && listOutput.contains("\tcrm\tread\til_") && listOutput.contains("\tcrm,sales\t") && !listOutput.contains(minted),
                "\(listOutput)")
        let (revokeCode, revokeOutput) = try Self.run(["token", "revoke", "crm", "--db", database])
        #expect(revokeCode == 0 && revokeOutput.contains("revoked token crm"), "\(revokeOutput)")
        try await Task.sleep(for: .milliseconds(1100))
        #expect(try await RawHTTPConnection.request(port: port, readWith(minted)).0 == 401)

        // Nothing of it is readable by other users of the machine: the folder the service created,
        // the database with its -wal and -shm, the lock, the generated secrets, the backup.
        let mode = { (path: String) in ((try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions]) as? Int ?? -1) & 0o777 }
        #expect(mode(dataFolder.path) == 0o700)
        for path in [database, database + "-wal", database + "-shm", database + ".lock", copy,
                     dataFolder.appendingPathComponent("api-token").path, dataFolder.appendingPathComponent("webhook-secret").path] {
            #expect(mode(path) == 0o600, "\(path)")
        }

        // The CRM that is not there is reported (not its secret, nor its URL's query).
        for _ in 0..<100 where !(String(decoding: (try? Data(contentsOf: logFile)) ?? Data(), as: UTF8.self)).contains("forwarding attempts fail") {
            try await Task.sleep(for: .milliseconds(50))
        }

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
        #expect(logText.contains("forwarding attempts fail"), "the failing CRM is reported")
        #expect(logText.contains("the forwarding config may be read by other users"))
        #expect(!logText.contains(forwardSecret) && !logText.contains("crm-query-secret"), "nor the forwarding secret, nor the URL's query")
    }
}
