import Foundation
import Hummingbird

/// Serves the operator console (`Console/`: HTML, CSS and JavaScript modules written here, no
/// build step, no third-party code) at `/` and `/console/<file>`. The files are read once at
/// start; every answer carries a Content-Security-Policy that allows scripts, styles and fetches
/// from this origin only (no inline script), forbids framing, and an ETag so browsers revalidate
/// instead of re-downloading. The console itself holds no data: it reads the authenticated API.
public struct ConsoleController<Context: RequestContext>: Sendable {
    struct Asset: Sendable {
        let bytes: [UInt8]
        let contentType: String
        let etag: String
    }

    private let assets: [String: Asset]

    /// Loads every file of `directory` (not recursive).
    public init(directory: URL) throws {
        var assets: [String: Asset] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: directory.path) where !name.hasPrefix(".") {
            guard let data = FileManager.default.contents(atPath: directory.appendingPathComponent(name).path) else { continue }
            assets[name] = Asset(bytes: Array(data), contentType: Self.contentType(name), etag: Self.etag(Array(data)))
        }
        self.assets = assets
    }

    public func addRoutes(to router: some RouterMethods<Context>) {
        router.get("/") { request, _ in try serve("index.html", request) }
        router.get("/console/:file") { request, context in try serve(context.parameters.require("file"), request) }
    }

    static var securityHeaders: HTTPFields {[
        .init("Content-Security-Policy")!:
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; connect-src 'self'; "
            + "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        .init("X-Content-Type-Options")!: "nosniff",
        .init("X-Frame-Options")!: "DENY",
        .init("Referrer-Policy")!: "no-referrer",
        .cacheControl: "no-cache",
    ]}

    func serve(_ name: String, _ request: Request) throws -> Response {
        guard let asset = assets[name] else { throw HTTPError(.notFound) }
        var headers = Self.securityHeaders
        headers[.eTag] = asset.etag
        if request.headers[.ifNoneMatch] == asset.etag {
            return Response(status: .notModified, headers: headers)
        }
        headers[.contentType] = asset.contentType
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: asset.bytes)))
    }

    static func contentType(_ name: String) -> String {
        switch (name as NSString).pathExtension {
        case "html": return "text/html; charset=utf-8"
        case "js": return "text/javascript; charset=utf-8"
        case "css": return "text/css; charset=utf-8"
        case "png": return "image/png"
        case "svg": return "image/svg+xml"
        default: return "application/octet-stream"
        }
    }

    /// A strong validator from the content (FNV-1a, 64 bits): stable across restarts.
    static func etag(_ bytes: [UInt8]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01B3
        }
        return "\"\(String(hash, radix: 16))-\(bytes.count)\""
    }
}
