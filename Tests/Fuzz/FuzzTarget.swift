// libFuzzer target over everything InboxLite does with bytes it has not yet authenticated, and
// with the body once it has: the header parsing, the bounded `sessionId` scan that picks the
// secret, and the strict JSON parse + envelope + event decoding. Built by `scripts/fuzz.sh` with
// `swiftc -sanitize=fuzzer,address` from the sources it names (not part of the package build).
// Each input is tried with every gateway's dialect (Inbox Hub, Meta, WAHA, Evolution).
//
// Input layout: the first line is read as the signature and timestamp headers (split at the first
// space), the rest is the body.

@_cdecl("LLVMFuzzerTestOneInput")
public func inboxliteFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let newline = bytes.firstIndex(of: 0x0A) ?? bytes.count
    let headerLine = String(decoding: bytes[..<newline], as: UTF8.self)
    let body = newline < bytes.count ? Array(bytes[(newline + 1)...]) : bytes

    let parts = headerLine.split(separator: " ", maxSplits: 1).map(String.init)
    if let signature = parts.first { _ = SignatureHeaders.decodeSignature(signature) }
    if parts.count > 1 { _ = SignatureHeaders.parseEpoch(parts[1]) }

    for key in ["sessionId", "session", "instance", "phone_number_id"] {
        if let claimed = SessionIdScanner.scan(body, key: key) { precondition(claimed.utf8.count <= SessionIdScanner.maxLength) }
    }

    // Every gateway's dialect over the same bytes.
    for provider in Provider.allCases {
        do {
            let envelope = try WebhookEnvelope.parse(body, provider: provider)
            precondition(!envelope.event.isEmpty)
            _ = envelope.inboxEvent
            guard case .success(let events) = envelope.payload else { continue }
            for routed in events {
                // The `data` bytes kept for each event must themselves be valid JSON.
                _ = try JSONParser.parse(routed.dataJSON)
                switch routed.event {
                case .messageReceived(let message), .messageSent(let message):
                    precondition(!message.messageId.isEmpty)
                    _ = message.chat(outgoing: true)
                    _ = message.isStatusBroadcast
                case .messageAck(let ack):
                    _ = ack.time
                    _ = ack.ack.status
                default:
                    break
                }
            }
        } catch {
            // Refusing input is the expected outcome for most of it.
        }
    }
    return 0
}
