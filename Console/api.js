// The public query API and its live stream, as any CRM client would use them. The token lives in
// sessionStorage (this tab only) and goes in the Authorization header, never in a URL.
const TOKEN_KEY = "inboxlite.token";

export const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY),
  set: (value) => sessionStorage.setItem(TOKEN_KEY, value),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

export class Unauthorized extends Error {}

function headers(extra = {}) {
  return { Authorization: `Bearer ${token.get() ?? ""}`, ...extra };
}

/** GET a JSON endpoint; throws Unauthorized on 401 and Error(message) on other failures. */
export async function get(path) {
  const response = await fetch(path, { headers: headers(), cache: "no-store" });
  if (response.status === 401) throw new Unauthorized("unauthorized");
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.message ?? `HTTP ${response.status}`);
  return body;
}

/** POST to an admin endpoint (no body); returns the JSON answer, throws as `get` does. */
export async function post(path) {
  const response = await fetch(path, { method: "POST", headers: headers(), cache: "no-store" });
  if (response.status === 401) throw new Unauthorized("unauthorized");
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.message ?? `HTTP ${response.status}`);
  return body;
}

/** An image endpoint as an object URL (an <img> cannot send the Authorization header). */
export async function imageURL(path) {
  const response = await fetch(path, { headers: headers(), cache: "no-store" });
  if (!response.ok) return null;
  return URL.createObjectURL(await response.blob());
}

/**
 * Reads /api/events with fetch (EventSource cannot send headers), resuming from the last id after
 * a drop. `onEvent(name, id)` for each event; `onState(up)` when the stream goes up or down.
 */
export function liveEvents(onEvent, onState) {
  let lastId = null;
  let stopped = false;
  let controller = null;
  async function run() {
    while (!stopped) {
      controller = new AbortController();
      try {
        const extra = lastId === null ? {} : { "Last-Event-ID": lastId };
        const response = await fetch("/api/events", { headers: headers(extra), signal: controller.signal, cache: "no-store" });
        if (response.status === 401) { onState(false); return; }
        if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
        onState(true);
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let end;
          while ((end = buffer.indexOf("\n\n")) >= 0) {
            const frame = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            let name = "message", id = null;
            for (const line of frame.split("\n")) {
              if (line.startsWith("event: ")) name = line.slice(7);
              else if (line.startsWith("id: ")) id = line.slice(4);
            }
            if (frame.startsWith(":")) continue;  // heartbeat
            if (id !== null) lastId = id;
            if (name === "reset") lastId = null;
            onEvent(name, id);
          }
        }
      } catch (error) {
        if (stopped) return;
      }
      onState(false);
      if (!stopped) await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }
  run();
  return () => { stopped = true; controller?.abort(); };
}
