import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A plain TCP connection to a live server that sends exactly the bytes a test writes: no client
/// library normalises the path, so odd spellings reach the server as an attacker would send them.
/// Blocking calls run on their own thread, never on Swift's cooperative pool.
final class RawHTTPConnection: @unchecked Sendable {
    private let descriptor: Int32
    private var received: [UInt8] = []
    /// Set once the server closed its side (a read returned end of stream).
    private(set) var peerClosed = false

    init(port: Int) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        // No close here: every stored property is set, so a throw still runs deinit, which closes
        // it. Closing here too closed the number twice — by then perhaps a socket another thread
        // had just opened (NIO then crashed on EBADF in getsockname, or a test hung).
        guard result == 0 else { throw POSIXError(.ECONNREFUSED) }
    }

    deinit { close(descriptor) }

    /// A port nothing listens on now: bound to port 0, read, closed.
    static func freePort() throws -> Int {
        let probe = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(probe) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(probe, $0, length) == 0 && getsockname(probe, $0, &length) == 0 }
        }
        guard bound else { throw POSIXError(.EADDRNOTAVAIL) }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    func send(_ text: String) {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent <= 0 { return }
            offset += sent
        }
    }

    /// Reads until `done` holds for what arrived so far, the peer closes, or `timeout` passes.
    /// Returns everything received on this connection.
    func read(timeout: TimeInterval, until done: @escaping @Sendable (String) -> Bool) async -> String {
        await withCheckedContinuation { continuation in
            Thread { [self] in
                let deadline = Date().addingTimeInterval(timeout)
                var buffer = [UInt8](repeating: 0, count: 65_536)
                while !done(String(decoding: received, as: UTF8.self)), Date() < deadline {
                    var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
                    let ready = poll(&poller, 1, 50)
                    if ready <= 0 { continue }
                    let count = recv(descriptor, &buffer, buffer.count, 0)
                    if count <= 0 {
                        peerClosed = true
                        break
                    }
                    received.append(contentsOf: buffer[0..<count])
                }
                continuation.resume(returning: String(decoding: received, as: UTF8.self))
            }.start()
        }
    }

    /// One request on a fresh connection; returns the status code and the whole response text.
    static func request(port: Int, _ text: String, timeout: TimeInterval = 5) async throws -> (Int, String) {
        let connection = try RawHTTPConnection(port: port)
        connection.send(text)
        let response = await connection.read(timeout: timeout) { response in
            guard let end = response.range(of: "\r\n\r\n") else { return false }
            let head = response[..<end.lowerBound].lowercased()
            if let line = head.split(separator: "\r\n").first(where: { $0.hasPrefix("content-length:") }),
               let length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) {
                return response.utf8.count - response[..<end.upperBound].utf8.count >= length
            }
            return head.contains("transfer-encoding: chunked") ? response.hasSuffix("0\r\n\r\n") : true
        }
        let status = response.split(separator: " ", maxSplits: 2).dropFirst().first.flatMap { Int($0) } ?? 0
        return (status, response)
    }
}
