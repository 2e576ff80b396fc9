import Foundation

/// Meta's fields other than `messages`: account, template, quality and number updates, calls,
/// flows, marketing preferences. None changes a message or a contact; each becomes one readable
/// session event (`session_events`), so an operator sees "Template order_update: APPROVED" in the
/// session's history instead of a delivery marked `ignored`.
enum MetaNotices {
    static func notice(field: String, value: JSONValue?, entryTime: Int64?) -> SessionNotice {
        SessionNotice(summary: summary(field: field, value: value), time: entryTime)
    }

    static func summary(field: String, value: JSONValue?) -> String {
        let event = value?.string("event")
        switch field {
        case "account_update":
            var text = "Account update: \(event ?? "unknown")"
            if let violation = value?.object("violation_info")?.string("violation_type") { text += " (\(violation))" }
            if case .array(let restrictions)? = value?["restriction_info"] {
                let types = restrictions.compactMap { $0.string("restriction_type") }
                if !types.isEmpty { text += " (\(types.joined(separator: ", ")))" }
            }
            return text
        case "message_template_status_update":
            var text = "Template \(value?.string("message_template_name") ?? "?"): \(event ?? "updated")"
            if let reason = value?.string("reason"), reason != "NONE" { text += " (\(reason))" }
            return text
        case "message_template_quality_update":
            return "Template \(value?.string("message_template_name") ?? "?") quality: "
                + "\(value?.string("previous_quality_score") ?? "?") → \(value?.string("new_quality_score") ?? "?")"
        case "template_category_update":
            return "Template \(value?.string("message_template_name") ?? "?") category: "
                + "\(value?.string("previous_category") ?? "?") → \(value?.string("new_category") ?? value?.string("correct_category") ?? "?")"
        case "message_template_components_update":
            return "Template \(value?.string("message_template_name") ?? "?") components changed"
        case "phone_number_quality_update":
            var text = "Number \(value?.string("display_phone_number") ?? "?") quality: \(event ?? "updated")"
            if let limit = value?.string("current_limit") ?? value?.string("messaging_limit_tier") { text += " (limit \(limit))" }
            return text
        case "phone_number_name_update":
            return "Display name \(value?.string("requested_verified_name") ?? "?"): \(value?.string("decision") ?? "updated")"
        case "business_capability_update":
            return "Business capability update"
        case "calls":
            if case .array(let statuses)? = value?["statuses"], let status = statuses.first {
                return "Call \(status.string("status") ?? "event") to \(status.string("recipient_id") ?? "?")"
            }
            if case .array(let calls)? = value?["calls"], let call = calls.first {
                return "Call \(call.string("event") ?? call.string("status") ?? "event") from \(call.string("from") ?? "?")"
            }
            return "Call event"
        case "user_preferences":
            if case .array(let preferences)? = value?["user_preferences"], let preference = preferences.first {
                return "Marketing messages \(preference.string("value") ?? "?") by \(preference.string("wa_id") ?? "?")"
            }
            return "User preferences changed"
        default:
            return "\(field)\(event.map { ": \($0)" } ?? "")"
        }
    }
}
