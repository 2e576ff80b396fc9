import Foundation

/// What one POST to a target came to, and what happens next.
enum AttemptResult: Sendable, Equatable {
    /// 2xx: the target has the event.
    case delivered
    /// Timeouts, connection errors, 408, 429 and 5xx: tried again with backoff until the retry
    /// time runs out. `retryAfter`: the target asked for this pause.
    case transient(error: String, status: Int?, retryAfter: TimeInterval?)
    /// Any other answer (other 4xx, a redirect, which is never followed): tried a few times, then
    /// a dead letter.
    case refused(error: String, status: Int)

    var status: Int? {
        switch self {
        case .delivered: nil
        case .transient(_, let status, _): status
        case .refused(_, let status): status
        }
    }

    var error: String {
        switch self {
        case .delivered: ""
        case .transient(let error, _, _), .refused(let error, _): error
        }
    }
}

/// When a failed event is tried again, and when it is given up.
enum RetryPolicy {
    /// Attempts an event refused with a 4xx gets before it is a dead letter.
    static let refusedAttempts = 5
    /// The longest pause between two attempts.
    static let maxPause: TimeInterval = 3600

    /// The next step after `attempts` attempts, the last of which gave `result`; `firstFailedAt`
    /// starts the retry time. Nil: give up (dead letter).
    static func nextAttempt(after result: AttemptResult, attempts: Int, firstFailedAt: Date, retryFor: TimeInterval, now: Date,
                            firstPause: TimeInterval = 2, jitter: Double = Double.random(in: 0.5...1.0)) -> Date? {
        switch result {
        case .delivered:
            return nil
        case .refused:
            guard attempts < refusedAttempts else { return nil }
            return now.addingTimeInterval(backoff(attempts: attempts, firstPause: firstPause, jitter: jitter))
        case .transient(_, _, let retryAfter):
            let pause = retryAfter.map { min(maxPause, max(1, $0)) } ?? backoff(attempts: attempts, firstPause: firstPause, jitter: jitter)
            let next = now.addingTimeInterval(pause)
            // The last attempt may be at the end of the retry time, not past it.
            return now < firstFailedAt.addingTimeInterval(retryFor) ? min(next, max(now, firstFailedAt.addingTimeInterval(retryFor))) : nil
        }
    }

    /// Exponential with jitter: 2 s, 4 s, 8 s … an hour (from a first pause of 2 s), each scaled
    /// by `jitter` (0.5–1), so a target that comes back is not hit by every held chat at once.
    static func backoff(attempts: Int, firstPause: TimeInterval, jitter: Double) -> TimeInterval {
        min(maxPause, firstPause * pow(2, Double(min(max(attempts, 1), 20) - 1))) * jitter
    }

    /// `Retry-After` as seconds or an HTTP date; nil when absent or unreadable.
    static func retryAfter(_ value: String?, now: Date) -> TimeInterval? {
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        if let seconds = Int(value), seconds >= 0 { return TimeInterval(seconds) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter.date(from: value).map { max(0, $0.timeIntervalSince(now)) }
    }
}
