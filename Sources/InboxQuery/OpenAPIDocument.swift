import Hummingbird

/// `GET /openapi.yaml`: the OpenAPI 3.1 description of every endpoint, served by the service it
/// describes (CI runs schemathesis against it).
public enum OpenAPIDocument {
    public static func addRoutes<Context: RequestContext>(to router: Router<Context>) {
        router.get("/openapi.yaml") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/yaml; charset=utf-8"],
                     body: .init(byteBuffer: ByteBuffer(string: yaml)))
        }
    }

    public static let yaml = #"""
openapi: 3.1.0
info:
  title: InboxLite
  version: "1.0"
  description: |
    Self-hosted WhatsApp inbox backend. The gateway posts signed webhooks; the query API reads the
    same SQLite database read-only. Every error is {"success": false, "error": code, "message": text}.
security:
  - bearer: []
paths:
  /healthz:
    get:
      summary: Liveness
      security: []
      responses:
        "200": {description: Alive, content: {application/json: {schema: {type: object, required: [status], properties: {status: {const: ok}}}}}}
  /webhooks/inbox-hub:
    post: &webhook
      summary: Receive a signed gateway webhook
      security: []
      parameters:
        - {name: X-Webhook-Signature, in: header, required: true, schema: {type: string}, description: "sha256=<hex HMAC-SHA256 of the raw body>"}
        - {name: X-Webhook-Timestamp, in: header, required: true, schema: {type: string}, description: ms since the epoch}
        - {name: X-Webhook-Session, in: header, schema: {type: string}}
        - {name: X-Webhook-Event, in: header, schema: {type: string}}
      requestBody:
        required: true
        content: {application/json: {schema: {$ref: "#/components/schemas/Envelope"}}}
      responses:
        "200": {description: Committed (or a duplicate of a committed body), content: {application/json: {schema: {$ref: "#/components/schemas/Received"}}}}
        "400": {$ref: "#/components/responses/Error"}
        "401": {$ref: "#/components/responses/Error"}
        "413": {$ref: "#/components/responses/Error"}
        "503": {$ref: "#/components/responses/Error"}
  /api/method/xappiens_whatsapp.api.webhook.handle_webhook:
    post: *webhook
  /api/webhooks/test/connectivity:
    get:
      summary: Reachability check
      security: []
      responses:
        "200": {description: Reachable, content: {application/json: {schema: {type: object, required: [success, message, timestamp], properties: {success: {type: boolean}, message: {type: string}, timestamp: {type: string}}}}}}
  /api/webhooks/test/signature:
    post:
      summary: Would this webhook be accepted? Stores nothing.
      parameters:
        - {name: X-Webhook-Signature, in: header, schema: {type: string}}
        - {name: X-Webhook-Timestamp, in: header, schema: {type: string}}
        - {name: X-Webhook-Session, in: header, schema: {type: string}}
      requestBody:
        content: {application/json: {schema: {}}}
      responses:
        "200":
          description: Verdict
          content:
            application/json:
              schema:
                type: object
                required: [success, data]
                properties:
                  success: {type: boolean}
                  data:
                    type: object
                    required: [valid, error, message, event, session_id]
                    properties:
                      valid: {type: boolean}
                      error: {type: [string, "null"]}
                      message: {type: string}
                      event: {type: [string, "null"]}
                      session_id: {type: [string, "null"]}
        "401": {$ref: "#/components/responses/Error"}
  /api/sessions:
    get:
      summary: Sessions
      parameters: [{$ref: "#/components/parameters/limit"}, {$ref: "#/components/parameters/cursor"}]
      responses:
        "200": {description: A page, content: {application/json: {schema: {$ref: "#/components/schemas/SessionPage"}}}}
        "400": {$ref: "#/components/responses/Error"}
        "401": {$ref: "#/components/responses/Error"}
        "503": {$ref: "#/components/responses/Error"}
  /api/sessions/{sessionId}:
    get:
      summary: One session
      parameters: [{name: sessionId, in: path, required: true, schema: {type: string}}]
      responses:
        "200": {description: The session, content: {application/json: {schema: {type: object, required: [data], properties: {data: {$ref: "#/components/schemas/Session"}}}}}}
        "400": {$ref: "#/components/responses/Error"}
        "401": {$ref: "#/components/responses/Error"}
        "404": {$ref: "#/components/responses/Error"}
        "503": {$ref: "#/components/responses/Error"}
  /api/sessions/{sessionId}/qr.png:
    get:
      summary: The current QR code as a PNG
      parameters: [{name: sessionId, in: path, required: true, schema: {type: string}}]
      responses:
        "200": {description: PNG image, content: {image/png: {schema: {type: string, contentMediaType: image/png}}}}
        "400": {$ref: "#/components/responses/Error"}
        "401": {$ref: "#/components/responses/Error"}
        "404": {$ref: "#/components/responses/Error"}
        "503": {$ref: "#/components/responses/Error"}
  /api/contacts:
    get:
      summary: Contacts, searchable by number or name
      parameters:
        - {$ref: "#/components/parameters/limit"}
        - {$ref: "#/components/parameters/cursor"}
        - {name: q, in: query, schema: {type: string}}
        - {$ref: "#/components/parameters/session"}
      responses:
        "200": {description: A page, content: {application/json: {schema: {$ref: "#/components/schemas/ContactPage"}}}}
        "400": {$ref: "#/components/responses/Error"}
        "401": {$ref: "#/components/responses/Error"}
        "503": {$ref: "#/components/responses/Error"}
  /api/contacts/{whatsappId}:
    get:
      summary: One contact
      parameters: [{name: whatsappId, in: path, required: true, schema: {type: string}}]
      responses:
        "200": {description: The contact, content: {application/json: {schema: {type: object, required: [data], properties: {data: {$ref: "#/components/schemas/Contact"}}}}}}
        "400": {$ref: "#/components/responses/Error"}
        "401": {$ref: "#/components/responses/Error"}
        "404": {$ref: "#/components/responses/Error"}
        "503": {$ref: "#/components/responses/Error"}
  /api/conversations:
    get:
      summary: One row per session and chat, newest activity first
      parameters: [{$ref: "#/components/parameters/limit"}, {$ref: "#/components/parameters/cursor"}, {$ref: "#/components/parameters/session"}]
      responses:
        "200": {description: A page, content: {application/json: {schema: {$ref: "#/components/schemas/ConversationPage"}}}}
        "400": {$ref: "#/components/responses/Error"}
        "401": {$ref: "#/components/responses/Error"}
        "503": {$ref: "#/components/responses/Error"}
  /api/conversations/{sessionId}/{whatsappId}/messages:
    get:
      summary: A chat's messages, newest first
      parameters:
        - {name: sessionId, in: path, required: true, schema: {type: string}}
        - {name: whatsappId, in: path, required: true, schema: {type: string}}
        - {$ref: "#/components/parameters/limit"}
        - {$ref: "#/components/parameters/cursor"}
        - {name: before, in: query, schema: {type: integer}, description: only messages before this unix time}
        - {name: after, in: query, schema: {type: integer}, description: only messages after this unix time}
        - {name: order, in: query, schema: {enum: [asc, desc]}}
      responses:
        "200": {description: A page, content: {application/json: {schema: {$ref: "#/components/schemas/MessagePage"}}}}
        "400": {$ref: "#/components/responses/Error"}
        "401": {$ref: "#/components/responses/Error"}
        "503": {$ref: "#/components/responses/Error"}
  /api/messages/{messageId}:
    get:
      summary: One message with its receipts and raw data
      parameters: [{name: messageId, in: path, required: true, schema: {type: string}}]
      responses:
        "200":
          description: The message
          content:
            application/json:
              schema:
                type: object
                required: [data]
                properties:
                  data:
                    type: object
                    required: [message, acks]
                    properties:
                      message: {$ref: "#/components/schemas/Message"}
                      acks: {type: array, items: {$ref: "#/components/schemas/Ack"}}
        "400": {$ref: "#/components/responses/Error"}
        "401": {$ref: "#/components/responses/Error"}
        "404": {$ref: "#/components/responses/Error"}
        "503": {$ref: "#/components/responses/Error"}
  /api/search:
    get:
      summary: Full-text search over message bodies (words, accents and case folded)
      parameters:
        - {name: q, in: query, required: true, schema: {type: string}}
        - {$ref: "#/components/parameters/session"}
        - {name: contact, in: query, schema: {type: string}}
        - {$ref: "#/components/parameters/limit"}
        - {$ref: "#/components/parameters/cursor"}
      responses:
        "200": {description: A page, content: {application/json: {schema: {$ref: "#/components/schemas/MessagePage"}}}}
        "400": {$ref: "#/components/responses/Error"}
        "401": {$ref: "#/components/responses/Error"}
        "503": {$ref: "#/components/responses/Error"}
  /api/webhooks/stats:
    get:
      summary: Delivery statistics (the guide's shape, plus counts by event)
      responses:
        "200":
          description: Statistics
          content:
            application/json:
              schema:
                type: object
                required: [success, data]
                properties:
                  success: {type: boolean}
                  data:
                    type: object
                    required: [totalDeliveries, successfulDeliveries, failedDeliveries, ignoredDeliveries, averageResponseTime, byEvent]
                    properties:
                      totalDeliveries: {type: integer}
                      successfulDeliveries: {type: integer}
                      failedDeliveries: {type: integer}
                      ignoredDeliveries: {type: integer}
                      averageResponseTime: {type: number, description: mean ms from arrival to application}
                      lastDelivery: {type: string}
                      byEvent: {type: object, additionalProperties: {type: integer}}
        "401": {$ref: "#/components/responses/Error"}
        "503": {$ref: "#/components/responses/Error"}
  /api/webhooks/health:
    get:
      summary: Receiver health
      responses:
        "200":
          description: Health
          content:
            application/json:
              schema:
                type: object
                required: [success, data]
                properties:
                  success: {type: boolean}
                  data:
                    type: object
                    required: [status, database, writer_queue_depth, failed_pending_retry, failed_given_up]
                    properties:
                      status: {enum: [healthy, degraded]}
                      database: {enum: [ok, unreachable]}
                      writer_queue_depth: {type: integer}
                      last_delivery_at: {type: string}
                      last_delivery_age_seconds: {type: number}
                      failed_pending_retry: {type: integer}
                      failed_given_up: {type: integer}
                      failed_total: {type: integer}
                      last_failure_at: {type: string}
                      total_deliveries: {type: integer}
                      pending_acks: {type: integer}
                      expired_pending_acks: {type: integer}
        "401": {$ref: "#/components/responses/Error"}
  /api/webhooks/deliveries:
    get:
      summary: The delivery log, newest first
      parameters:
        - {$ref: "#/components/parameters/limit"}
        - {$ref: "#/components/parameters/cursor"}
        - {name: status, in: query, schema: {enum: [applied, ignored, failed]}}
        - {name: event, in: query, schema: {type: string}}
        - {$ref: "#/components/parameters/session"}
        - {name: include, in: query, schema: {enum: [body]}}
      responses:
        "200": {description: A page, content: {application/json: {schema: {$ref: "#/components/schemas/DeliveryPage"}}}}
        "400": {$ref: "#/components/responses/Error"}
        "401": {$ref: "#/components/responses/Error"}
        "503": {$ref: "#/components/responses/Error"}
  /api/events:
    get:
      summary: Server-Sent Events of applied changes (id = delivery id)
      parameters:
        - {name: Last-Event-ID, in: header, schema: {type: string}, description: "resume after this id; without it the stream starts at the live head"}
        - {name: last_event_id, in: query, schema: {type: string}, description: the same as Last-Event-ID, for clients that cannot set headers}
        - {$ref: "#/components/parameters/session"}
        - {name: max_events, in: query, schema: {type: integer, minimum: 1}, description: end the stream after this many events}
      responses:
        "200": {description: "An event stream; also `event: reset` (history no longer kept), `event: overflow` (client too slow) and `event: shutdown` (service stopping)", content: {text/event-stream: {schema: {type: string}}}}
        "400": {$ref: "#/components/responses/Error"}
        "401": {$ref: "#/components/responses/Error"}
        "503": {$ref: "#/components/responses/Error"}
  /api/admin/replay:
    post:
      summary: Re-apply stored deliveries through the running service's writer (what `inboxlite replay` calls)
      parameters:
        - {name: status, in: query, required: true, schema: {enum: [failed, ignored]}}
      responses:
        "200":
          description: What the replay did
          content:
            application/json:
              schema:
                type: object
                required: [success, data]
                properties:
                  success: {type: boolean}
                  data:
                    type: object
                    required: [status, replayed, applied, ignored, failed]
                    properties:
                      status: {enum: [failed, ignored]}
                      replayed: {type: integer}
                      applied: {type: integer}
                      ignored: {type: integer}
                      failed: {type: integer}
        "400": {$ref: "#/components/responses/Error"}
        "401": {$ref: "#/components/responses/Error"}
        "503": {$ref: "#/components/responses/Error"}
  /metrics:
    get:
      summary: Prometheus metrics
      responses:
        "200": {description: Prometheus text format, content: {text/plain: {schema: {type: string}}}}
        "401": {$ref: "#/components/responses/Error"}
  /openapi.yaml:
    get:
      summary: This document
      security: []
      responses:
        "200": {description: OpenAPI 3.1, content: {application/yaml: {schema: {type: string}}}}
components:
  securitySchemes:
    bearer: {type: http, scheme: bearer}
  parameters:
    limit: {name: limit, in: query, schema: {type: integer, minimum: 1, maximum: 200, default: 50}}
    cursor: {name: cursor, in: query, schema: {type: string}, description: next_cursor of the previous page}
    session: {name: session, in: query, schema: {type: string}}
  responses:
    Error:
      description: An error
      content:
        application/json:
          schema:
            type: object
            required: [success, error, message]
            properties:
              success: {const: false}
              error: {type: string}
              message: {type: string}
  schemas:
    Envelope:
      type: object
      required: [event]
      properties:
        event: {type: string}
        sessionId: {type: string}
        data: {type: object}
        timestamp: {type: string, format: date-time}
    Received:
      type: object
      required: [success, received]
      properties:
        success: {const: true}
        received: {const: true}
        duplicate: {const: true}
    Cursor: {type: [string, "null"]}
    Session:
      type: object
      required: [session_id, status, is_connected, has_qr_code, message_count, conversation_count, created_at, updated_at]
      properties:
        session_id: {type: string}
        status: {enum: [Pending, QR Code, Connected, Disconnected]}
        is_connected: {type: boolean}
        phone_number: {type: string}
        has_qr_code: {type: boolean}
        qr_expires_at: {type: string}
        disconnect_reason: {type: string}
        status_changed_at: {type: string}
        last_event_at: {type: string}
        message_count: {type: integer}
        conversation_count: {type: integer}
        created_at: {type: string}
        updated_at: {type: string}
    Contact:
      type: object
      required: [whatsapp_id, session_id, is_group, created_at, updated_at]
      properties:
        id: {type: integer}
        whatsapp_id: {type: string}
        session_id: {type: string}
        phone_number: {type: string}
        is_group: {type: boolean}
        display_name: {type: string}
        first_message_at: {type: integer}
        first_message_time: {type: string}
        last_message_at: {type: integer}
        last_message_time: {type: string}
        created_at: {type: string}
        updated_at: {type: string}
    Message:
      type: object
      required: [message_id, session_id, contact, from_me, has_media, is_forwarded, is_status, status, created_at, updated_at]
      properties:
        id: {type: integer}
        message_id: {type: string}
        wa_key_id: {type: string}
        session_id: {type: string}
        contact: {type: string}
        from_me: {type: boolean}
        author: {type: string}
        body: {type: string}
        type: {type: string}
        timestamp: {type: integer}
        message_time: {type: string}
        has_media: {type: boolean}
        is_forwarded: {type: boolean}
        is_status: {type: boolean}
        quoted_msg_id: {type: string}
        status: {enum: [received, pending, sent, server, error, delivered, read, played]}
        ack: {type: integer}
        ack_at: {type: string, description: time of the receipt that set status (its payload time when it had one)}
        ack_received_at: {type: string, description: when that receipt arrived}
        created_at: {type: string}
        updated_at: {type: string}
        snippet: {type: string, description: "search results only: HTML-escaped text with <mark> around hits"}
        data: {description: the event's data object as stored (message detail only)}
    Ack:
      type: object
      required: [ack, status, received_at]
      properties:
        ack: {type: integer}
        status: {type: string}
        ack_at: {type: string}
        received_at: {type: string}
    Conversation:
      type: object
      required: [session_id, contact, is_group, last_activity_at, message_count, unread_count, last_message]
      properties:
        id: {type: integer}
        session_id: {type: string}
        contact: {type: string}
        display_name: {type: string}
        phone_number: {type: string}
        is_group: {type: boolean}
        last_activity_at: {type: integer}
        last_activity_time: {type: string}
        message_count: {type: integer}
        unread_count: {type: integer}
        last_message:
          type: object
          required: [message_id, from_me, status]
          properties:
            message_id: {type: string}
            body_preview: {type: string}
            timestamp: {type: integer}
            message_time: {type: string}
            from_me: {type: boolean}
            status: {type: string}
    Delivery:
      type: object
      required: [id, event, body_sha256, received_at, status, attempts]
      properties:
        id: {type: integer}
        event: {type: string}
        session_id: {type: string}
        body_sha256: {type: string}
        received_at: {type: string}
        status: {enum: [applied, ignored, failed]}
        attempts: {type: integer}
        last_error: {type: string}
        processing_ms: {type: number}
        applied_at: {type: string}
        next_attempt_at: {type: string}
        body_removed_at: {type: string, description: when retention emptied the body}
        body: {type: string}
    SessionPage: {type: object, required: [data, next_cursor], properties: {data: {type: array, items: {$ref: "#/components/schemas/Session"}}, next_cursor: {$ref: "#/components/schemas/Cursor"}}}
    ContactPage: {type: object, required: [data, next_cursor], properties: {data: {type: array, items: {$ref: "#/components/schemas/Contact"}}, next_cursor: {$ref: "#/components/schemas/Cursor"}}}
    ConversationPage: {type: object, required: [data, next_cursor], properties: {data: {type: array, items: {$ref: "#/components/schemas/Conversation"}}, next_cursor: {$ref: "#/components/schemas/Cursor"}}}
    MessagePage: {type: object, required: [data, next_cursor], properties: {data: {type: array, items: {$ref: "#/components/schemas/Message"}}, next_cursor: {$ref: "#/components/schemas/Cursor"}}}
    DeliveryPage: {type: object, required: [data, next_cursor], properties: {data: {type: array, items: {$ref: "#/components/schemas/Delivery"}}, next_cursor: {$ref: "#/components/schemas/Cursor"}}}
"""#
}
