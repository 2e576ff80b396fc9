extension StringProtocol {
    /// The text without leading and trailing spaces and tabs. Header values and JSON numbers are
    /// trimmed on every webhook; Foundation's `trimmingCharacters(in:)` bridges through NSString
    /// and cost more than the HMAC check.
    public var trimmingSpacesAndTabs: Substring {
        let text = Substring(self)
        let isBlank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = text.firstIndex(where: { !isBlank($0) }) else { return text[text.endIndex...] }
        let last = text.lastIndex(where: { !isBlank($0) })!
        return text[first...last]
    }
}
