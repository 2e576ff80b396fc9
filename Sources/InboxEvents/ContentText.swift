import Foundation

/// The readable text of a message that has no text of its own (`messages.body`), so an inbox
/// preview, a thread bubble and search always have words: `📍 Office, Main St 1`,
/// `👤 Ana Souza`, `📊 Which day?`. One place, so every gateway's message reads the same.
public enum ContentText {
    public static func location(name: String?, address: String?, url: String?, latitude: JSONValue?, longitude: JSONValue?) -> String {
        let place = [name, address].compactMap { $0?.isEmpty == false ? $0 : nil }.joined(separator: ", ")
        if !place.isEmpty { return "📍 " + place }
        if let url, !url.isEmpty { return "📍 " + url }
        if let latitude = number(latitude), let longitude = number(longitude) { return "📍 \(latitude), \(longitude)" }
        return "📍 Location"
    }

    public static func contacts(_ names: [String]) -> String {
        let listed = names.filter { !$0.isEmpty }
        return "👤 " + (listed.isEmpty ? "Contact card" : listed.joined(separator: ", "))
    }

    public static func poll(question: String?, options: [String]) -> String {
        let title = question.flatMap { $0.isEmpty ? nil : $0 } ?? "Poll"
        return options.isEmpty ? "📊 " + title : "📊 \(title) (\(options.joined(separator: " / ")))"
    }

    public static func order(itemCount: Int64?, text: String?) -> String {
        var line = "🛒 Order"
        if let itemCount { line += itemCount == 1 ? " (1 item)" : " (\(itemCount) items)" }
        if let text, !text.isEmpty { line += ": " + text }
        return line
    }

    /// A message the gateway could not show, with its reason when it gave one.
    public static func unsupported(_ reason: String?) -> String {
        guard let reason, !reason.isEmpty else { return "⚠️ Unsupported message" }
        return "⚠️ Unsupported message (\(reason))"
    }

    /// A coordinate as JSON gave it (number or text).
    private static func number(_ value: JSONValue?) -> String? {
        switch value {
        case .double(let number)?: return String(number)
        case .integer(let number)?: return String(number)
        case .string(let text)?: return text
        default: return nil
        }
    }
}

extension ContentText {
    /// A file without a caption: what it is, and the document's name.
    public static func media(_ kind: MessageKind, fileName: String?) -> String {
        switch kind {
        case .image: return "📷 Photo"
        case .video: return "🎥 Video"
        case .voice: return "🎤 Voice message"
        case .audio: return "🎵 Audio"
        case .sticker: return "💟 Sticker"
        default: return "📄 " + (fileName.flatMap { $0.isEmpty ? nil : $0 } ?? "Document")
        }
    }

    /// The names (`FN:` lines) of vCards.
    public static func vCardNames(_ cards: [String]) -> [String] {
        cards.compactMap { card in
            card.split(whereSeparator: \.isNewline).first { $0.hasPrefix("FN:") || $0.hasPrefix("FN;") }
                .flatMap { line in line.firstIndex(of: ":").map { String(line[line.index(after: $0)...]) } }
        }
    }
}
