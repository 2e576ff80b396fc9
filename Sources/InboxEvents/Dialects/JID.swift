import Foundation

/// WhatsApp addresses as InboxLite stores them: people `<digits>@c.us`, groups `…@g.us`, whatever
/// spelling the gateway used.
enum JID {
    /// `…@s.whatsapp.net` (Baileys, WAHA's NOWEB/GOWS) becomes `…@c.us`; a device suffix
    /// (`:12`) is dropped; bare digits (Meta `wa_id`) get `@c.us`. Other domains (`@g.us`, `@lid`,
    /// `@newsletter`, `status@broadcast`) are kept.
    static func normalize(_ raw: String) -> String {
        let trimmed = String(raw.trimmingSpacesAndTabs)
        guard let at = trimmed.firstIndex(of: "@") else {
            let digits = trimmed.filter(\.isNumber)
            return digits.isEmpty ? trimmed : digits + "@c.us"
        }
        let user = trimmed[..<at]
        let domain = trimmed[trimmed.index(after: at)...]
        switch domain {
        case "s.whatsapp.net", "c.us":
            return String(user.prefix { $0 != ":" }) + "@c.us"
        default:
            return trimmed
        }
    }

    static func isLID(_ jid: String) -> Bool { jid.hasSuffix("@lid") }
    static func isGroup(_ jid: String) -> Bool { jid.hasSuffix("@g.us") }

    /// The phone digits of a personal JID, nil for anything else.
    static func digits(_ jid: String) -> String? {
        guard jid.hasSuffix("@c.us") else { return nil }
        let user = jid.dropLast(5)
        return !user.isEmpty && user.allSatisfy(\.isNumber) ? String(user) : nil
    }
}
