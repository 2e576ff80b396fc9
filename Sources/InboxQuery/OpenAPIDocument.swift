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
}
