// InboxLite operator console: built only on the public query API and its event stream. Every
// piece of message, contact and session text is inserted with textContent, never as HTML.
import { get, imageURL, liveEvents, post, token, Unauthorized } from "./api.js";

const $ = (id) => document.getElementById(id);
const state = { view: "inbox", open: null, conversationsCursor: null, olderCursor: null, deliveriesCursor: null, stopLive: null,
                deadTarget: null, deadCursor: null };

/** An element with text content only (never innerHTML). */
function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

const enc = encodeURIComponent;
const localTime = (unix) => (unix ? new Date(unix * 1000).toLocaleString() : "");
const TICKS = { pending: ["◷", "pending"], server: ["✓", "sent"], delivered: ["✓✓", "delivered"], read: ["✓✓", "read"],
                played: ["✓✓ ▶", "played"], error: ["⚠", "not delivered"], sent: ["✓", "sent"] };

// MARK: - Signing in and out

async function signIn(value) {
  token.set(value);
  try {
    await get("/api/webhooks/health");
  } catch (error) {
    token.clear();
    $("signin-error").textContent = error instanceof Unauthorized ? "That token was not accepted." : `Cannot reach InboxLite: ${error.message}`;
    return;
  }
  $("signin-error").textContent = "";
  $("signin").hidden = true;
  $("tabs").hidden = false;
  $("signout").hidden = false;
  show("inbox");
  state.stopLive = liveEvents(onLiveEvent, (up) => {
    $("live").textContent = up ? "live" : "reconnecting…";
    $("live").className = `live ${up ? "up" : "down"}`;
  });
}

function signOut() {
  token.clear();
  state.stopLive?.();
  location.reload();
}

function failed(error) {
  if (error instanceof Unauthorized) signOut();
  else console.warn(error.message);
}

// MARK: - Views

function show(view) {
  state.view = view;
  for (const section of document.querySelectorAll(".view")) section.hidden = section.id !== view;
  for (const button of document.querySelectorAll("#tabs button")) {
    if (button.dataset.view === view) button.setAttribute("aria-current", "page"); else button.removeAttribute("aria-current");
  }
  if (view === "inbox") loadConversations().catch(failed);
  if (view === "sessions") loadSessions().catch(failed);
  if (view === "deliveries") loadDeliveries().catch(failed);
  if (view === "forwarding") loadForwarding().catch(failed);
}

async function loadConversations(more = false) {
  const page = await get(`/api/conversations?limit=30${more && state.conversationsCursor ? `&cursor=${enc(state.conversationsCursor)}` : ""}`);
  const list = $("conversations");
  if (!more) list.replaceChildren();
  for (const conversation of page.data) list.append(conversationItem(conversation));
  state.conversationsCursor = page.next_cursor;
  $("more-conversations").hidden = !page.next_cursor;
}

function conversationItem(c) {
  const item = el("li", null, "conversation");
  item.tabIndex = 0;
  item.setAttribute("role", "button");
  item.dataset.key = `${c.session_id}|${c.contact}`;
  if (state.open && state.open.key === item.dataset.key) item.classList.add("open");
  item.append(el("span", c.display_name || c.phone_number || c.contact, "name"));
  if (c.unread_count > 0) item.append(el("span", c.unread_count, "badge"));
  const last = c.last_message ?? {};
  const preview = (last.from_me ? "You: " : "") + (last.deleted ? "🚫 This message was deleted" : (last.body_preview ?? ""));
  item.append(el("span", preview || "(no text)", "preview"));
  const open = () => openThread(c.session_id, c.contact, c.display_name || c.phone_number || c.contact).catch(failed);
  item.addEventListener("click", open);
  item.addEventListener("keydown", (event) => { if (event.key === "Enter" || event.key === " ") { event.preventDefault(); open(); } });
  return item;
}

async function openThread(session, contact, title) {
  state.open = { session, contact, key: `${session}|${contact}`, title };
  for (const item of document.querySelectorAll(".conversation")) item.classList.toggle("open", item.dataset.key === state.open.key);
  $("thread-title").textContent = title;
  await loadThread();
}

async function loadThread(older = false) {
  const open = state.open;
  if (!open) return;
  const cursor = older && state.olderCursor ? `&cursor=${enc(state.olderCursor)}` : "";
  const page = await get(`/api/conversations/${enc(open.session)}/${enc(open.contact)}/messages?limit=50${cursor}`);
  const thread = $("thread");
  const bubbles = page.data.slice().reverse().map((message) => bubble(message, open.contact.endsWith("@g.us")));
  if (older) thread.prepend(...bubbles); else thread.replaceChildren(...bubbles);
  state.olderCursor = page.next_cursor;
  $("older").hidden = !page.next_cursor;
}

// Texts of quoted messages, looked up once each and filled in after the bubble is shown (a
// thread never waits for them).
const quotes = new Map();

function fillLater(cache, key, load, node, format) {
  if (!cache.has(key)) cache.set(key, load().catch(() => null));
  cache.get(key).then((value) => { if (value) node.textContent = format(value); });
}

function fileSize(bytes) {
  if (bytes == null) return null;
  const units = ["B", "KB", "MB", "GB"];
  let value = bytes, unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

// The same words the server gives a file without a caption (ContentText.media).
const MEDIA_LABELS = { image: "📷 Photo", video: "🎥 Video", audio: "🎵 Audio", voice: "🎤 Voice message", document: "📄 Document", sticker: "💟 Sticker" };
const mediaLabel = (media) => media.kind === "document" && media.file_name ? `📄 ${media.file_name}` : MEDIA_LABELS[media.kind];

// What WhatsApp shows of a file before it is downloaded: its kind, name and size.
function mediaCard(media) {
  const card = el("div", null, "media");
  card.append(el("span", MEDIA_LABELS[media.kind] ?? "📎 File", "kind"));
  const details = [media.file_name, fileSize(media.size_bytes), media.duration_seconds != null ? `${media.duration_seconds}s` : null,
                   media.mime_type].filter(Boolean).join(" · ");
  if (details) card.append(el("span", details, "details"));
  return card;
}

function bubble(m, isGroup) {
  const item = el("li", null, `bubble${m.from_me ? " mine" : ""}${m.deleted ? " deleted" : ""}`);
  item.dataset.messageId = m.message_id;
  if (isGroup && !m.from_me && m.author) item.append(el("div", m.author_name || m.author.replace(/@.*/, ""), "author"));
  if (m.deleted) {
    item.append(el("div", "🚫 This message was deleted", "tombstone"));
  } else {
    if (m.quoted_msg_id) {
      const quote = el("div", "↩ reply", "quote");
      fillLater(quotes, m.quoted_msg_id, async () => (await get(`/api/messages/${enc(m.quoted_msg_id)}`)).data.message.body, quote,
                (body) => `↩ ${body}`);
      item.append(quote);
    }
    if (m.media) item.append(mediaCard(m.media));
    else if (m.has_media) item.append(el("div", `📎 ${m.type || "media"}`, "media"));
    // A file without a caption has its label as body ("📷 Photo"), which the card already says.
    if (m.body && !(m.media && m.body === mediaLabel(m.media))) item.append(el("div", m.body, "body"));
    if (Array.isArray(m.votes) && m.votes.length) {
      const counts = new Map();
      for (const vote of m.votes) for (const option of vote.options) counts.set(option, (counts.get(option) ?? 0) + 1);
      item.append(el("div", [...counts].map(([option, n]) => `${option}: ${n}`).join(" · ") || "no votes", "votes"));
    }
  }
  if (Array.isArray(m.reactions) && m.reactions.length) {
    const chips = el("div", null, "reactions");
    const counts = new Map();
    for (const reaction of m.reactions) counts.set(reaction.emoji, (counts.get(reaction.emoji) ?? 0) + 1);
    for (const [emoji, n] of counts) {
      const chip = el("span", n > 1 ? `${emoji} ${n}` : emoji, "chip");
      chip.title = m.reactions.filter((r) => r.emoji === emoji).map((r) => r.reactor === "me" ? "you" : r.reactor.replace(/@.*/, "")).join(", ");
      chips.append(chip);
    }
    item.append(chips);
  }
  const meta = el("div", localTime(m.timestamp), "meta");
  if (m.edited && !m.deleted) {
    const mark = el("span", " · edited", "edited");
    if (m.edited_at) mark.title = `edited ${new Date(m.edited_at).toLocaleString()}`;
    meta.append(mark);
  }
  if (m.from_me) {
    const [symbol, label] = TICKS[m.status] ?? ["", m.status];
    const tick = el("span", ` ${symbol}`, `tick ${m.status}`);
    tick.title = label;
    tick.setAttribute("aria-label", label);
    meta.append(tick);
  }
  item.append(meta);
  return item;
}

async function loadSessions() {
  const page = await get("/api/sessions?limit=200");
  const list = $("session-list");
  list.replaceChildren();
  for (const s of page.data) {
    const card = el("li");
    card.dataset.session = s.session_id;
    card.append(el("h3", s.session_id), el("p", `${s.provider} · ${s.status}${s.phone_number ? ` · +${s.phone_number}` : ""}`));
    card.append(el("p", s.last_event_at ? `last event ${new Date(s.last_event_at).toLocaleString()}` : "no events yet", "muted"));
    if (s.has_qr_code) {
      const url = await imageURL(`/api/sessions/${enc(s.session_id)}/qr.png`);
      if (url) {
        const image = el("img");
        image.src = url;
        image.alt = `QR code to connect ${s.session_id}: scan it with WhatsApp`;
        image.className = "qr";
        card.append(image);
      }
    }
    list.append(card);
  }
}

/** A search snippet (HTML-escaped text with <mark> around hits) rebuilt as text nodes and marks. */
function snippetNodes(snippet) {
  const text = (s) => s.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, "&");
  const nodes = [];
  for (const [index, part] of snippet.split(/<\/?mark>/).entries()) nodes.push(index % 2 ? el("mark", text(part)) : document.createTextNode(text(part)));
  return nodes;
}

async function search(q) {
  const page = await get(`/api/search?q=${enc(q)}&limit=50`);
  const list = $("results");
  list.replaceChildren();
  if (page.data.length === 0) list.append(el("li", "Nothing found.", "muted"));
  for (const m of page.data) {
    const item = el("li");
    const link = el("a", m.contact);
    link.href = "#";
    link.addEventListener("click", (event) => { event.preventDefault(); show("inbox"); openThread(m.session_id, m.contact, m.contact).catch(failed); });
    const snippet = el("div");
    snippet.append(...snippetNodes(m.snippet ?? m.body ?? ""));
    item.append(link, el("span", ` · ${localTime(m.timestamp)}`, "muted"), snippet);
    list.append(item);
  }
}

async function loadDeliveries(more = false) {
  const status = $("f-status").value, provider = $("f-provider").value;
  let query = "/api/webhooks/deliveries?limit=50&include=body";
  if (status) query += `&status=${enc(status)}`;
  if (provider) query += `&provider=${enc(provider)}`;
  if (more && state.deliveriesCursor) query += `&cursor=${enc(state.deliveriesCursor)}`;
  const page = await get(query);
  const list = $("delivery-list");
  if (!more) list.replaceChildren();
  for (const d of page.data) {
    const item = el("li");
    const details = el("details");
    details.append(el("summary", `#${d.id} ${d.provider} ${d.session_id ?? "(no session)"} ${d.event} · ${d.status} · ${new Date(d.received_at).toLocaleString()}`));
    if (d.last_error) details.append(el("p", d.last_error, "error"));
    details.append(el("pre", d.body ?? (d.body_removed_at ? "(body removed by retention)" : "")));
    item.append(details);
    list.append(item);
  }
  state.deliveriesCursor = page.next_cursor;
  $("more-deliveries").hidden = !page.next_cursor;
}

// MARK: - Forwarding: each target's backlog and errors, its dead letters, and re-sending them.

const seconds = (value) => (value === null ? "—" : value < 120 ? `${Math.round(value)} s` : value < 7200 ? `${Math.round(value / 60)} min` : `${Math.round(value / 3600)} h`);

async function loadForwarding() {
  let page;
  try {
    page = await get("/api/forwarding");
  } catch (error) {
    if (error instanceof Unauthorized) throw error;
    $("forwarding-note").textContent = `Forwarding needs an admin token of every session (${error.message}).`;
    $("target-list").replaceChildren();
    return;
  }
  $("forwarding-note").textContent = page.data.length ? "" : "No target is configured: start with --forward-url and --forward-secret, or --forward-config.";
  const list = $("target-list");
  list.replaceChildren();
  for (const t of page.data) {
    const card = el("li");
    card.append(el("h3", t.name), el("p", t.url, "muted"));
    const facts = el("dl");
    for (const [term, value] of [["Waiting", `${t.backlog} (${t.not_sent_yet} not sent yet, ${t.waiting_for_retry} for a retry)`],
                                 ["Oldest waiting", seconds(t.oldest_pending_age_seconds)], ["Delivered", t.delivered],
                                 ["Failed attempts", t.failed_attempts], ["Dead letters", t.dead_letters],
                                 ["Last delivered", t.last_delivered_at ? new Date(t.last_delivered_at).toLocaleString() : "—"]]) {
      facts.append(el("dt", term), el("dd", value));
    }
    card.append(facts);
    if (t.last_error) card.append(el("p", `Last error (${new Date(t.last_error_at).toLocaleString()}): ${t.last_error}`, "error"));
    const show = el("button", "Dead letters");
    show.type = "button";
    show.addEventListener("click", () => loadDeadLetters(t.name).catch(failed));
    card.append(show);
    if (t.dead_letters > 0) {
      const resend = el("button", `Re-send ${t.dead_letters}`);
      resend.type = "button";
      resend.addEventListener("click", async () => {
        resend.disabled = true;
        try {
          const answer = await post(`/api/admin/forwarding/retry?target=${enc(t.name)}`);
          $("forwarding-note").textContent = `${answer.data.resent} dead letters of ${t.name} go out again.`;
        } catch (error) {
          $("forwarding-note").textContent = `Not re-sent: ${error.message}`;
        }
        await loadForwarding();
      });
      card.append(resend);
    }
    list.append(card);
  }
}

async function loadDeadLetters(target, more = false) {
  state.deadTarget = target;
  const page = await get(`/api/forwarding/dead-letters?target=${enc(target)}&limit=50${more && state.deadCursor ? `&cursor=${enc(state.deadCursor)}` : ""}`);
  const list = $("dead-list");
  if (!more) list.replaceChildren();
  $("dead-title").hidden = false;
  $("dead-title").textContent = `Dead letters of ${target}`;
  for (const d of page.data) {
    list.append(el("li", `#${d.seq} ${d.type} · ${d.session_id ?? ""} ${d.chat ?? ""} · ${d.attempts} attempts · ${d.last_error ?? ""}`));
  }
  if (!page.data.length && !more) list.append(el("li", "None.", "muted"));
  state.deadCursor = page.next_cursor;
  $("more-dead").hidden = !page.next_cursor;
}

// MARK: - Live updates: re-read what an event changed, a few times a second at most.

let pending = new Set(), timer = null;
function onLiveEvent(name) {
  // Messages and what changes them or their names: reactions, edits, deletions, votes, merges, groups, history.
  if (/^(message|poll|contact|group|history)\./.test(name)) { pending.add("conversations"); pending.add("thread"); }
  if (name.startsWith("session.")) pending.add("sessions");
  if (name === "reset") { pending.add("conversations"); pending.add("thread"); pending.add("sessions"); }
  if (!timer) timer = setTimeout(refresh, 150);
}

async function refresh() {
  const due = pending;
  pending = new Set();
  timer = null;
  try {
    if (due.has("conversations") && state.view === "inbox") await loadConversations();
    if (due.has("thread") && state.view === "inbox" && state.open) await loadThread();
    if (due.has("sessions") && state.view === "sessions") await loadSessions();
  } catch (error) {
    failed(error);
  }
}

// MARK: - Wiring

$("signin-form").addEventListener("submit", (event) => { event.preventDefault(); signIn($("token").value.trim()); });
$("signout").addEventListener("click", signOut);
for (const button of document.querySelectorAll("#tabs button")) button.addEventListener("click", () => show(button.dataset.view));
$("more-conversations").addEventListener("click", () => loadConversations(true).catch(failed));
$("older").addEventListener("click", () => loadThread(true).catch(failed));
$("search-form").addEventListener("submit", (event) => { event.preventDefault(); search($("q").value).catch(failed); });
$("delivery-filters").addEventListener("submit", (event) => { event.preventDefault(); loadDeliveries().catch(failed); });
$("more-deliveries").addEventListener("click", () => loadDeliveries(true).catch(failed));
$("more-dead").addEventListener("click", () => loadDeadLetters(state.deadTarget, true).catch(failed));
if (token.get()) signIn(token.get());
