import Foundation
#if canImport(InboxStore)
import InboxStore  // (the fuzz target compiles this file into one module with InboxStore's sources)
#endif

/// Parsing of the unauthenticated headers a webhook carries. Pure Swift with no dependencies, so
/// the fuzz target (`scripts/fuzz.sh`) compiles it together with the envelope decoding.
enum SignatureHeaders {
    /// Milliseconds since the epoch; values below 10^12 are taken as seconds.
    static func parseEpoch(_ text: String) -> Date? {
        guard let value = Double(text.trimmingSpacesAndTabs), value.isFinite, value > 0 else {
            return nil
        }
        return Date(timeIntervalSince1970: value < 1e12 ? value : value / 1000)
    }

    /// The 32 signature bytes from `sha256=<hex>` or bare hex, either case; nil if malformed.
    static func decodeSignature(_ header: String) -> [UInt8]? {
        decodeHex(header, prefix: "sha256=", bytes: 32)
    }

    /// `bytes` bytes from hex (either case) after an optional `prefix`; nil if malformed.
    static func decodeHex(_ header: String, prefix: String, bytes count: Int) -> [UInt8]? {
        var hex = header.trimmingSpacesAndTabs
        if hex.prefix(prefix.count).lowercased() == prefix { hex = hex.dropFirst(prefix.count) }
        let digits = Array(hex.utf8)
        guard digits.count == count * 2 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count)
        var index = 0
        while index < digits.count {
            guard let high = hexValue(digits[index]), let low = hexValue(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func hexValue(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return digit - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
