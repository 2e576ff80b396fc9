import Foundation
import Hummingbird

/// `GET /openapi.yaml`: the OpenAPI 3.1 description of every endpoint, read from the checked-in
/// `openapi.yaml` (shipped and found like `Migrations/`) and served by the service it describes.
/// CI validates the file and runs schemathesis against it.
public enum OpenAPIDocument {
    public static func addRoutes<Context: RequestContext>(to router: some RouterMethods<Context>, document: [UInt8]) {
        router.get("/openapi.yaml") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/yaml; charset=utf-8"],
                     body: .init(byteBuffer: ByteBuffer(bytes: document)))
        }
    }

    /// Each documented path with its methods, read from the document's `paths:` section (two-space
    /// YAML indentation, as the checked-in file is written).
    public static func operations(in document: [UInt8]) -> [(path: String, methods: [String])] {
        let methods: Set<String> = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]
        var operations: [(path: String, methods: [String])] = []
        var inPaths = false
        for line in String(decoding: document, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false) {
            if !line.hasPrefix(" ") && !line.isEmpty { inPaths = line == "paths:"; continue }
            guard inPaths else { continue }
            if line.hasPrefix("  /"), !line.hasPrefix("   "), line.hasSuffix(":") {
                operations.append((String(line.dropFirst(2).dropLast()), []))
            } else if line.hasPrefix("    "), !line.hasPrefix("     "), let colon = line.firstIndex(of: ":"),
                      case let name = line[line.index(line.startIndex, offsetBy: 4)..<colon], methods.contains(String(name)),
                      !operations.isEmpty {
                operations[operations.count - 1].methods.append(String(name))
            }
        }
        return operations
    }
}
