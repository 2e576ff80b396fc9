import Foundation
@testable import InboxEvents
import Testing

@Suite("JSON parser")
struct JSONParserTests {
    private func parse(_ text: String) throws -> JSONValue {
        try JSONParser.parse(Array(text.utf8)).value
    }

    @Test func readsEveryKindOfValue() throws {
        let value = try parse(#" {"s":"a\"b\\c\/\n\u00e9\ud83d\ude00","i":-12,"d":1.5e2,"t":true,"f":false,"n":null,"a":[1,[]],"o":{}} "#)
        #expect(value.string("s") == "a\"b\\c/\né😀")
        #expect(value["i"] == .integer(-12) && value["d"] == .double(150) && value["t"] == .bool(true))
        #expect(value["f"] == .bool(false) && value["n"] == .null && value["a"] == .array([.integer(1), .array([])]))
        #expect(value["o"] == .object([]))
    }

    @Test func keepsTheExactBytesOfTopLevelMembers() throws {
        let text = #"{"event":"x","data": {"b" : "\u0000 é" } ,"z":1}"#
        let document = try JSONParser.parse(Array(text.utf8))
        let range = try #require(document.memberRanges["data"])
        #expect(String(decoding: Array(text.utf8)[range], as: UTF8.self) == #"{"b" : "\u0000 é" }"#)
    }

    @Test func aLoneSurrogateBecomesTheReplacementCharacterOnly() throws {
        #expect(try parse(#"["a\ud800b","\udc00","\ud800\u0041"]"#) == .array([.string("a\u{FFFD}b"), .string("\u{FFFD}"), .string("\u{FFFD}A")]))
    }

    @Test func stringsKeepEveryCharacterWithAndWithoutEscapes() throws {
        let cases = ["", "plain ascii", "héllo wörld", "✓ 日本語 🙂", "tab\\tescaped é", "a\\u00e9b"]
        let expected = ["", "plain ascii", "héllo wörld", "✓ 日本語 🙂", "tab\tescaped é", "aéb"]
        for (text, want) in zip(cases, expected) {
            #expect(try parse("\"\(text)\"") == .string(want))
        }
    }

    @Test func refusesWhatIsNotJSON() {
        for bad in ["", "{", "{\"a\":}", "[1,]", "{\"a\" 1}", "01", "1.", "-", "tru", "\"\\x\"", "\"\\u12\"", "[1] 2",
                    "{\"a\":1,}", "'a'", "\"a\tb\"", "NaN", String(repeating: "[", count: 65) + String(repeating: "]", count: 65)] {
            #expect(throws: JSONParser.Failure.self, "\(bad)") { try parse(bad) }
        }
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse([0x22, 0xC3, 0x28, 0x22]) }  // invalid UTF-8
        // Invalid bytes after ASCII, in a key, and a lone continuation byte: never taken as text.
        for invalid: [UInt8] in [[0x22, 0x61, 0x62, 0xFF, 0x22], [0x7B, 0x22, 0x80, 0x22, 0x3A, 0x31, 0x7D], [0x22, 0x61, 0xED, 0xA0, 0x80, 0x22]] {
            #expect(throws: JSONParser.Failure.self, "\(invalid)") { try JSONParser.parse(invalid) }
        }
        #expect((try? parse(String(repeating: "[", count: 64) + String(repeating: "]", count: 64))) != nil, "64 levels are fine")
    }
}

@Suite("Gateway dialects: edge cases the fuzzer found")
struct DialectEdgeCaseTests {
    @Test func aMetaChangeWithAnEmptyFieldStillHasAnEventName() throws {
        let body = #"{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"","value":{}}]}]}"#
        let envelope = try WebhookEnvelope.parse(Array(body.utf8), provider: .meta)
        #expect(envelope.event == "unknown")
    }
}
