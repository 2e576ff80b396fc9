import Foundation
import InboxEvents
@testable import InboxStore
import Testing

@Suite("ISO 8601 times")
struct TimestampsTests {
    @Test func parsesTheShapesGatewaysSend() {
        #expect(Timestamps.parse("2025-10-14T06:30:00.000Z")?.timeIntervalSince1970 == 1_760_423_400)
        #expect(Timestamps.parse("2025-10-14T06:30:00Z")?.timeIntervalSince1970 == 1_760_423_400)
        #expect(Timestamps.parse("2025-10-14T08:30:00+02:00")?.timeIntervalSince1970 == 1_760_423_400)
        #expect(Timestamps.parse("2025-10-14T06:30:00.5Z")?.timeIntervalSince1970 == 1_760_423_400.5)
        #expect(Timestamps.parse("2025-10-14") == nil)
        #expect(Timestamps.parse("yesterday") == nil)
        #expect(Timestamps.parse("2025-13-14T06:30:00Z") == nil)
    }

    @Test func formatsSortableUTCWithMilliseconds() {
        let date = Date(timeIntervalSince1970: 1_760_423_400.25)
        #expect(Timestamps.iso(date) == "2025-10-14T06:30:00.250Z")
        #expect(Timestamps.parse(Timestamps.iso(date)) == date)
    }

    /// The API writes the `*_time` fields itself; they must equal what the database's generated
    /// columns (SQLite's strftime) show for the same seconds in the years 0000-9999. Outside them
    /// the API leaves the field out (SQLite shows NULL or a negative year such as `-001-…`).
    @Test func unixTimesMatchSQLiteStrftime() throws {
        let fixture = try StoreFixture()
        let reader = try fixture.reader()
        var random = SystemRandomNumberGenerator()
        var values: [Int64] = [0, 1, -1, 86_399, 86_400, -86_400, -86_401, 951_782_400, 1_760_423_400, 4_102_444_800,
                               -62_167_219_200, -62_167_219_201, 253_402_300_799, 253_402_300_800, Int64.max, Int64.min]
        for _ in 0..<2000 { values.append(Int64.random(in: -62_167_219_200...253_402_300_799, using: &random)) }
        for seconds in values {
            var text = [UInt8](repeating: 0, count: Timestamps.unixTimeLength)
            let count = text.withUnsafeMutableBufferPointer { Timestamps.writeUnixTime(seconds, to: $0.baseAddress!) }
            let (written, mine) = (count > 0, Array(text.prefix(count)))
            let sqlite = try reader.queryFirst("SELECT strftime('%Y-%m-%dT%H:%M:%SZ', ?, 'unixepoch')", seconds)?.string(0)
            if (-62_167_219_200...253_402_300_799).contains(seconds) {
                #expect(written && String(decoding: mine, as: UTF8.self) == sqlite, "\(seconds)")
            } else {
                #expect(!written && mine.isEmpty, "\(seconds)")
            }
        }
    }
}
