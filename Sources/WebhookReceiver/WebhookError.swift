import InboxEvents
import Hummingbird
import InboxHTTP
import InboxStore

/// Why a webhook was not accepted. Each case is one row of the receiver's error table.
public enum WebhookError: Error, Equatable, APIError {
    case bodyTooLarge(limit: Int)
    case missingSignature(header: String = "X-Webhook-Signature")
    case invalidSignature(header: String = "X-Webhook-Signature")
    case missingTimestamp
    case invalidTimestamp
    case staleTimestamp(source: String)
    case futureTimestamp(source: String)
    case sessionMismatch
    case badEnvelope(EnvelopeError)
    /// The database could not take the write; the gateway should retry.
    case storeUnavailable
    /// The writer's queue is full; the gateway should retry a little later.
    case storeBusy
    /// This gateway has no secret configured, so its endpoint is off.
    case providerDisabled(String)
    /// A gateway authenticated by token (Evolution) sent none, or a wrong or expired one.
    case missingCredentials(String)
    case invalidCredentials(String)
    /// Meta's subscribe handshake did not match the verify token.
    case verificationFailed

    public var status: HTTPResponse.Status {
        switch self {
        case .bodyTooLarge: return .contentTooLarge
        case .missingSignature, .invalidSignature, .missingTimestamp, .invalidTimestamp, .staleTimestamp,
             .futureTimestamp, .sessionMismatch:
            return .unauthorized
        case .badEnvelope: return .badRequest
        case .storeUnavailable, .storeBusy: return .serviceUnavailable
        case .providerDisabled: return .notFound
        case .missingCredentials, .invalidCredentials: return .unauthorized
        case .verificationFailed: return .forbidden
        }
    }

    public var code: String {
        switch self {
        case .bodyTooLarge: return "body_too_large"
        case .missingSignature: return "missing_signature"
        case .invalidSignature: return "invalid_signature"
        case .missingTimestamp: return "missing_timestamp"
        case .invalidTimestamp: return "invalid_timestamp"
        case .staleTimestamp: return "stale_timestamp"
        case .futureTimestamp: return "future_timestamp"
        case .sessionMismatch: return "session_mismatch"
        case .badEnvelope(let error): return error.code
        case .storeUnavailable: return "store_unavailable"
        case .storeBusy: return "store_busy"
        case .providerDisabled: return "provider_disabled"
        case .missingCredentials: return "missing_credentials"
        case .invalidCredentials: return "invalid_credentials"
        case .verificationFailed: return "verification_failed"
        }
    }

    public var message: String {
        switch self {
        case .bodyTooLarge(let limit): return "the body is larger than \(limit) bytes"
        case .missingSignature(let header): return "the \(header) header is missing"
        case .invalidSignature(let header): return "the \(header) does not match the body for this session's secret"
        case .missingTimestamp: return "the X-Webhook-Timestamp header is missing"
        case .invalidTimestamp: return "the X-Webhook-Timestamp header is not a number of milliseconds since the epoch"
        case .staleTimestamp(let source): return "the \(source) is too old (replayed or delayed delivery)"
        case .futureTimestamp(let source): return "the \(source) is too far in the future (check the clocks)"
        case .sessionMismatch: return "the X-Webhook-Session header and the body's sessionId differ"
        case .badEnvelope(let error): return error.message
        case .storeUnavailable: return "the database cannot take the write right now; retry later"
        case .storeBusy: return "the writer is behind and its queue is full; nothing was stored, retry shortly"
        case .providerDisabled(let provider): return "the \(provider) gateway is not configured on this server"
        case .missingCredentials(let what): return "no credentials: send \(what)"
        case .invalidCredentials(let what): return what
        case .verificationFailed: return "hub.mode must be subscribe and hub.verify_token must match the configured verify token"
        }
    }

    public var headers: HTTPFields {
        self == .storeUnavailable || self == .storeBusy ? [.retryAfter: "1"] : [:]
    }
}
