import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// ISO 8601 reading and writing without Foundation formatters: they are slow, not `Sendable`, and
/// their fractional-second handling differs by platform. Every time InboxLite writes has the same
/// shape, `2025-10-14T06:30:00.000Z`, so text comparison in SQL orders it correctly.
public enum Timestamps {
    /// Bytes `writeUnixTime` writes: `YYYY-MM-DDTHH:MM:SSZ`.
    public static let unixTimeLength = 20

    /// Writes unix `seconds` as `2025-10-14T06:30:00Z` (`unixTimeLength` bytes, what SQLite's
    /// `strftime('%Y-%m-%dT%H:%M:%SZ', seconds, 'unixepoch')` gives) at `out` and returns how many
    /// bytes it wrote: 0 outside the years 0000-9999, where SQLite gives NULL. Integer arithmetic
    /// only, straight into the page's buffer: it runs for every row of a page.
    public static func writeUnixTime(_ seconds: Int64, to out: UnsafeMutablePointer<UInt8>) -> Int {
        guard isUnixTimeInRange(seconds) else { return 0 }
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        func two(_ value: Int64, at offset: Int) {
            out[offset] = UInt8(48 + value / 10)
            out[offset + 1] = UInt8(48 + value % 10)
        }
        two(year / 100, at: 0); two(year % 100, at: 2); out[4] = UInt8(ascii: "-")
        two(month, at: 5); out[7] = UInt8(ascii: "-"); two(day, at: 8); out[10] = UInt8(ascii: "T")
        two(secondOfDay / 3600, at: 11); out[13] = UInt8(ascii: ":"); two(secondOfDay / 60 % 60, at: 14)
        out[16] = UInt8(ascii: ":"); two(secondOfDay % 60, at: 17); out[19] = UInt8(ascii: "Z")
        return unixTimeLength
    }

    /// Seconds within 0000-01-01T00:00:00Z ... 9999-12-31T23:59:59Z.
    public static func isUnixTimeInRange(_ seconds: Int64) -> Bool {
        seconds >= -62_167_219_200 && seconds <= 253_402_300_799
    }

    /// Formats unix seconds (an event's own time) as `iso(_:)` does.
    public static func iso(unixSeconds: Int64) -> String {
        iso(Date(timeIntervalSince1970: Double(unixSeconds)))
    }

    /// Formats a date as UTC ISO 8601 with milliseconds.
    public static func iso(_ date: Date) -> String {
        let interval = date.timeIntervalSince1970
        var seconds = time_t(floor(interval))
        let millis = min(999, Int((interval - floor(interval)) * 1000))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        // Hand-formatted: String(format:) costs microseconds per call on Linux and this runs per row.
        var out = [UInt8]()
        out.reserveCapacity(24)
        func append(_ value: Int, digits: Int) {
            var divisor = 1
            for _ in 1..<digits { divisor *= 10 }
            var rest = value
            while divisor > 0 {
                out.append(UInt8(48 + (rest / divisor) % 10))
                rest %= divisor
                divisor /= 10
            }
        }
        append(Int(parts.tm_year) + 1900, digits: 4); out.append(UInt8(ascii: "-"))
        append(Int(parts.tm_mon) + 1, digits: 2); out.append(UInt8(ascii: "-"))
        append(Int(parts.tm_mday), digits: 2); out.append(UInt8(ascii: "T"))
        append(Int(parts.tm_hour), digits: 2); out.append(UInt8(ascii: ":"))
        append(Int(parts.tm_min), digits: 2); out.append(UInt8(ascii: ":"))
        append(Int(parts.tm_sec), digits: 2); out.append(UInt8(ascii: "."))
        append(millis, digits: 3); out.append(UInt8(ascii: "Z"))
        return String(decoding: out, as: UTF8.self)
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM|±HHMM)`; nil for anything else.
    public static func parse(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        var index = 0

        func number(_ digits: Int) -> Int? {
            guard index + digits <= bytes.count else { return nil }
            var value = 0
            for _ in 0..<digits {
                let byte = bytes[index]
                guard byte >= 48, byte <= 57 else { return nil }
                value = value * 10 + Int(byte - 48)
                index += 1
            }
            return value
        }
        func expect(_ characters: String) -> Bool {
            guard index < bytes.count, characters.utf8.contains(bytes[index]) else { return false }
            index += 1
            return true
        }

        guard let year = number(4), expect("-"), let month = number(2), expect("-"), let day = number(2),
              expect("Tt "), let hour = number(2), expect(":"), let minute = number(2), expect(":"),
              let second = number(2),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second <= 60
        else { return nil }

        var fraction = 0.0
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            var scale = 0.1
            let start = index
            while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 {
                fraction += Double(bytes[index] - 48) * scale
                scale /= 10
                index += 1
            }
            guard index > start else { return nil }
        }

        var offsetSeconds = 0
        guard index < bytes.count else { return nil }
        switch bytes[index] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            index += 1
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            let sign = bytes[index] == UInt8(ascii: "-") ? -1 : 1
            index += 1
            guard let offsetHours = number(2) else { return nil }
            if index < bytes.count, bytes[index] == UInt8(ascii: ":") { index += 1 }
            guard let offsetMinutes = number(2) else { return nil }
            offsetSeconds = sign * (offsetHours * 3600 + offsetMinutes * 60)
        default:
            return nil
        }
        guard index == bytes.count else { return nil }

        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds
        return Date(timeIntervalSince1970: Double(seconds) + fraction)
    }

    /// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm).
    private static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let monthIndex = month > 2 ? month - 3 : month + 9
        let dayOfYear = (153 * monthIndex + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
