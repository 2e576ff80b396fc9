/// Members that gateways put in webhook bodies and that must never be stored, logged or served:
/// Evolution API sends its instance `apikey` (which can send messages as the business) in every
/// body. Their string values are replaced by `"[removed]"` before a body is stored anywhere
/// (deliveries, `data` columns, the event stream, the API). Matched at any depth, ignoring case.
public enum SecretFields {
    /// The deny list (lowercase). README lists it.
    public static let names: Set<String> = [
        "apikey", "api_key", "x-api-key", "access_token", "accesstoken", "jwt_key", "password", "client_secret",
    ]

    /// What a removed value reads as.
    public static let replacement = Array(#""[removed]""#.utf8)

    /// The lengths of the names: a member name of another length is not looked up.
    private static let lengths: Set<Int> = Set(names.map(\.utf8.count))

    static func isSecret(_ key: String) -> Bool {
        lengths.contains(key.utf8.count) && names.contains(key.lowercased())
    }

    /// `body` with every range's bytes replaced by `replacement` (ranges in document order).
    static func scrub(_ body: [UInt8], ranges: [Range<Int>]) -> [UInt8] {
        var scrubbed: [UInt8] = []
        scrubbed.reserveCapacity(body.count)
        var position = 0
        for range in ranges where range.lowerBound >= position {
            scrubbed += body[position..<range.lowerBound]
            scrubbed += replacement
            position = range.upperBound
        }
        scrubbed += body[position...]
        return scrubbed
    }
}
