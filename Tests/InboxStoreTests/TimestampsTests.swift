import Foundation
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
}
