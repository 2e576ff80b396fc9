import Foundation
@testable import InboxQuery
import Testing

@Suite("JSON writer")
struct JSONWriterTests {
    /// Past its first buffer (32 KiB) the writer grows and keeps everything: every string with
    /// quotes, backslashes, control characters and multi-byte text reads back exactly.
    @Test func aLargeDocumentWithEveryEscapeReadsBackExactly() throws {
        let texts = (0..<2_000).map { "línea \($0): \"quoted\" \\ back\tslash\nnew\u{0001}\u{001F} 🙂 ñandú" }
        var json = JSONWriter()
        json.object { json in
            json.key("items")
            json.array { json in
                for (index, text) in texts.enumerated() {
                    json.object { json in
                        json.key("text")
                        json.string(text)
                        json.key("index")
                        json.integer(Int64(index))
                        json.key("negative")
                        json.integer(-Int64(index))
                        json.key("even")
                        json.boolean(index % 2 == 0)
                        json.key("time")
                        json.raw(UnsafeBufferPointer(start: nil, count: 0))  // stored JSON that is empty: null
                    }
                }
            }
        }
        let bytes = json.bytes
        #expect(bytes.count > 200_000)
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        let items = try #require(parsed["items"] as? [[String: Any]])
        #expect(items.count == texts.count)
        for (index, item) in items.enumerated() {
            #expect(item["text"] as? String == texts[index])
            #expect(item["index"] as? Int == index)
            #expect(item["negative"] as? Int == -index)
            #expect(item["even"] as? Bool == (index % 2 == 0))
            #expect(item["time"] is NSNull)
        }
    }
}
