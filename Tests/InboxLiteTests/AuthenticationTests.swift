import Foundation
import Testing

@Suite("Authentication by route group: no path spelling gets around the token")
struct AuthenticationTests {
    /// Every route that needs the token, as method and canonical path.
    static let protectedRoutes: [(String, String)] = [
        ("GET", "/api/sessions"), ("GET", "/api/sessions/crm"), ("GET", "/api/sessions/crm/qr.png"),
        ("GET", "/api/contacts"), ("GET", "/api/contacts/34612345678@c.us"), ("GET", "/api/conversations"),
        ("GET", "/api/conversations/crm/34612345678@c.us/messages"), ("GET", "/api/messages/false_34612345678@c.us_A1_in"),
        ("GET", "/api/search?q=hola"), ("GET", "/api/webhooks/stats"), ("GET", "/api/webhooks/health"),
        ("GET", "/api/webhooks/deliveries"), ("GET", "/api/events"), ("GET", "/metrics"),
        ("POST", "/api/webhooks/test/signature"), ("POST", "/api/admin/replay?status=failed"),
    ]

    /// The ways a path can be spelled that a router might read as the same route.
    static func spellings(of target: String) -> [String] {
        let (path, query) = target.split(separator: "?", maxSplits: 1).map(String.init).pairOrNil
        let suffix = query.map { "?\($0)" } ?? ""
        let segments = path.split(separator: "/").map(String.init)
        let first = segments[0]
        let rest = segments.dropFirst().joined(separator: "/")
        let restPart = rest.isEmpty ? "" : "/" + rest
        var variants = [
            path, "/" + path, "//" + path.dropFirst(), path + "/", path + "//", "///" + path.dropFirst(),
            "/" + first + "/" + restPart, "/./" + path.dropFirst(), "/" + first + "/." + restPart,
            "/x/.." + path, "/" + first + "/x/.." + restPart, path + "/.",
            "/%" + String(format: "%02X", first.utf8.first!) + first.dropFirst() + restPart,  // %61pi
            "/" + first + "%2F" + rest, path.uppercased(), "/" + first.uppercased() + restPart,
            path + ";", path + "%20", path + "?", path + "#x",
        ]
        variants = variants.map { $0 + suffix } + [path + (query.map { "?\($0)&token=x" } ?? "?token=x")]
        return Array(Set(variants)).sorted()
    }

    @Test(.timeLimit(.minutes(2))) func noSpellingOfAProtectedRouteAnswersWithoutTheToken() async throws {
        let inbox = try TestInbox()
        defer { inbox.remove() }
        let answered = try await inbox.live { port, _ in
            // With the token the canonical paths do answer: the routes really exist.
            for path in ["/api/sessions", "/metrics", "/api/webhooks/health"] {
                let (status, _) = try await RawHTTPConnection.request(port: port, Self.get(path, token: "test-token"))
                #expect(status == 200, "\(path) with the token")
            }
            var answered: [String] = []
            for (method, route) in Self.protectedRoutes {
                for spelling in Self.spellings(of: route) {
                    let request = "\(method) \(spelling) HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    var (status, response) = try await RawHTTPConnection.request(port: port, request, timeout: 3)
                    if status == 0 {
                        // No answer in 3 s: under the parallel suite that can be load, so ask once more,
                        // patiently; silence then still counts against the route (a hang is no refusal).
                        (status, response) = try await RawHTTPConnection.request(port: port, request, timeout: 15)
                    }
                    if (200..<300).contains(status) || status == 0 {
                        answered.append("\(method) \(spelling) -> \(status): \(response.prefix(120))")
                    }
                    if status == 401 {
                        #expect(response.contains(#""error":"unauthorized""#))
                        #expect(response.lowercased().contains("www-authenticate: bearer"))
                    }
                }
                // A wrong token and a wrong scheme are refused too.
                let path = route
                for header in ["Authorization: Bearer wrong-token", "Authorization: Basic dGVzdC10b2tlbg==", "Authorization: Bearer "] {
                    let request = "\(method) \(path) HTTP/1.1\r\nHost: localhost\r\n\(header)\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    let (status, _) = try await RawHTTPConnection.request(port: port, request, timeout: 3)
                    #expect(status == 401, "\(method) \(path) with \(header)")
                }
            }
            return answered
        }
        #expect(answered.isEmpty, "answered without the token:\n\(answered.joined(separator: "\n"))")
    }

    @Test func theOpenRoutesNeedNoToken() async throws {
        let inbox = try TestInbox()
        defer { inbox.remove() }
        try await inbox.live { port, _ in
            for path in ["/healthz", "/openapi.yaml", "/api/webhooks/test/connectivity"] {
                let (status, _) = try await RawHTTPConnection.request(port: port, Self.get(path, token: nil))
                #expect(status == 200, "\(path)")
            }
        }
    }

    static func get(_ path: String, token: String?) -> String {
        let auth = token.map { "Authorization: Bearer \($0)\r\n" } ?? ""
        return "GET \(path) HTTP/1.1\r\nHost: localhost\r\n\(auth)Connection: close\r\n\r\n"
    }
}

private extension Array where Element == String {
    var pairOrNil: (String, String?) { (self[0], count > 1 ? self[1] : nil) }
}
