import Foundation
import InboxStore

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Admin requests to the service that holds the database's lock: there is only ever one writer,
/// so a command that would write asks the running service to do it instead.
struct ServiceClient {
    let base: String
    let token: String

    /// The running service's address (from the lock) and an admin token: `--api-token`,
    /// `INBOXLITE_API_TOKEN`, or the `api-token` file next to the database.
    init(service: RunningService?, database: DatabaseOptions, apiToken: String?, what: String) throws {
        guard let base = service?.url else {
            throw UsageFailure("another process holds \(database.databasePath) but has not said where it listens; stop it, or retry once it has started")
        }
        let tokenFile = URL(fileURLWithPath: database.databasePath).deletingLastPathComponent().appendingPathComponent("api-token").path
        guard let token = apiToken ?? environment("INBOXLITE_API_TOKEN")
            ?? (try? String(contentsOfFile: tokenFile, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        else {
            throw UsageFailure("the service at \(base) holds the database; pass --api-token (or INBOXLITE_API_TOKEN) to \(what) through it")
        }
        self.base = base
        self.token = token
    }

    /// Sends the request; returns the status code and the JSON object answered.
    func send(_ method: String, _ path: String, json: [String: Any]? = nil, timeout: TimeInterval = 60) async throws -> (Int, [String: Any]) {
        guard let url = URL(string: base + path) else { throw UsageFailure("bad address \(base + path)") }
        var request = URLRequest(url: url)
        request.httpMethod = method
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        request.timeoutInterval = timeout
        if let json {
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = try JSONSerialization.data(withJSONObject: json)
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, object)
    }
}
