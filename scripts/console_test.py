#!/usr/bin/env python3
"""End-to-end test of the operator console in headless Chromium (Selenium), against a live server.

usage: scripts/console_test.py BINARY [SCREENSHOT_DIR]

Signs in (a wrong token first), posts signed webhooks the way Inbox Hub does and checks that the
page follows without a reload: the QR code appears, a new message shows in the list and its thread,
an ack turns the ticks, hostile text stays text, search folds accents, the console logs no errors
and a 375 px wide window does not scroll sideways. Screenshots go to SCREENSHOT_DIR (printed).
"""
import base64, hashlib, hmac, http.server, json, os, sys, tempfile, threading, time, urllib.request

from live_server import LiveServer

from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.support.ui import WebDriverWait

BINARY = sys.argv[1]
SHOTS = sys.argv[2] if len(sys.argv) > 2 else tempfile.mkdtemp(prefix="inboxlite-console-")
os.makedirs(SHOTS, exist_ok=True)
SECRET, TOKEN, WAHA_KEY = "console-secret", "console-token", "console-waha"
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="

class FailingCRM(http.server.BaseHTTPRequestHandler):
    """A forwarding target that answers 500: the Forwarding tab shows its backlog and error."""
    def do_POST(self):
        self.rfile.read(int(self.headers["content-length"]))
        self.send_response(500)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *arguments):
        pass


crm = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FailingCRM)
threading.Thread(target=crm.serve_forever, daemon=True).start()
FORWARD_SECRET = "whsec_" + base64.b64encode(os.urandom(32)).decode()
server = LiveServer(BINARY, SECRET, TOKEN, "--waha-hmac-key", WAHA_KEY,
                    "--forward-url", f"http://127.0.0.1:{crm.server_address[1]}/hook", "--forward-secret", FORWARD_SECRET)
base = server.base
failures = []


def check(condition, what):
    print(("  ok   " if condition else "  FAIL ") + what)
    if not condition:
        failures.append(what)


def post(event, data, session="crm"):
    body, headers = server.inbox_hub_webhook(event, data, session)
    request = urllib.request.Request(f"{base}/webhooks/inbox-hub", data=body, method="POST", headers=headers)
    with urllib.request.urlopen(request) as response:
        assert response.status == 200, response.status


def post_waha(event, payload, session="console"):
    """A WAHA webhook, signed as WAHA signs it (HMAC-SHA512 of the body)."""
    body = json.dumps({"event": event, "session": session, "payload": payload, "engine": "NOWEB",
                       "timestamp": int(time.time() * 1000)}).encode()
    request = urllib.request.Request(f"{base}/webhooks/waha", data=body, method="POST", headers={
        "Content-Type": "application/json", "X-Webhook-Hmac": hmac.new(WAHA_KEY.encode(), body, hashlib.sha512).hexdigest(),
        "X-Webhook-Hmac-Algorithm": "sha512", "X-Webhook-Timestamp": str(int(time.time() * 1000))})
    with urllib.request.urlopen(request) as response:
        assert response.status == 200, response.status


def message(key, body, from_me=False, ts=None, chat="34612345678@c.us"):
    direction = "true" if from_me else "false"
    return {"id": {"fromMe": from_me, "remote": chat, "id": key, "_serialized": f"{direction}_{chat}_{key}"},
            "body": body, "type": "chat", "timestamp": ts or int(time.time()), "from": chat, "to": "34657032985@c.us",
            "fromMe": from_me, "notifyName": None if from_me else "Ana"}


def wait(driver, condition, seconds=5):
    # The console re-renders its lists on every live event: an element found a moment ago may be
    # gone; look again.
    return WebDriverWait(driver, seconds, poll_frequency=0.05, ignored_exceptions=[StaleElementReferenceException]).until(
        lambda d: condition(d))


def click_first(driver, find, seconds=5):
    """Clicks the first element `find` returns, finding it again if a re-render replaced it."""
    def attempt(d):
        elements = find(d)
        if not elements:
            return False
        elements[0].click()
        return True
    wait(driver, attempt, seconds)


driver = None
try:
    server.wait_until_ready()
    # The page and its assets: CSP without inline scripts, no framing, no sniffing, validators.
    with urllib.request.urlopen(f"{base}/") as response:
        csp = response.headers.get("Content-Security-Policy", "")
        check("script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp, f"CSP on / ({csp})")
        check(response.headers.get("X-Content-Type-Options") == "nosniff", "nosniff on /")
        etag = response.headers.get("ETag")
    try:
        urllib.request.urlopen(urllib.request.Request(f"{base}/", headers={"If-None-Match": etag}))
        check(False, "304 for a current ETag")
    except urllib.error.HTTPError as error:
        check(error.code == 304, "304 for a current ETag")

    options = webdriver.ChromeOptions()
    for flag in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1440,900"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.get(base + "/")

    # Sign in: a wrong token says so, the right one opens the inbox.
    driver.find_element(By.ID, "token").send_keys("wrong")
    driver.find_element(By.CSS_SELECTOR, "#signin-form button").click()
    check("not accepted" in wait(driver, lambda d: d.find_element(By.ID, "signin-error").text), "a wrong token is refused with a message")
    driver.get_log("browser")  # the deliberate 401 above is logged as a network error: start clean
    field = driver.find_element(By.ID, "token")
    field.clear()
    field.send_keys(TOKEN)
    driver.find_element(By.CSS_SELECTOR, "#signin-form button").click()
    wait(driver, lambda d: d.find_element(By.ID, "live").text == "live")
    check(True, "signed in; the live stream is up")

    # A QR code posted now appears on the Sessions view without a reload.
    driver.find_element(By.CSS_SELECTOR, "#tabs button[data-view=sessions]").click()
    post("session.qr", {"qrCode": "data:image/png;base64," + PNG})
    image = wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#session-list img.qr"))
    check(bool(image) and image[0].get_attribute("src").startswith("blob:"), "session.qr shows the QR image live")
    driver.save_screenshot(f"{SHOTS}/sessions-qr.png")

    # A new message appears in the list and in its open thread within 2 s, without a reload.
    driver.find_element(By.CSS_SELECTOR, "#tabs button[data-view=inbox]").click()
    post("message.received", message("M1", "Hola, ¿cómo estás?", ts=int(time.time()) - 60))
    click_first(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#conversations .conversation"))
    wait(driver, lambda d: "cómo estás" in d.find_element(By.ID, "thread").text)
    started = time.time()
    post("message.received", message("M2", "¿Tienes el presupuesto?"))
    wait(driver, lambda d: "presupuesto" in d.find_element(By.ID, "thread").text
         and "presupuesto" in d.find_element(By.ID, "conversations").text, 2)
    check(time.time() - started < 2, f"a posted message is in the list and the thread in {time.time() - started:.2f} s")

    # An outgoing message, then its read receipt: the ticks turn.
    post("message.sent", message("OUT1", "Te lo envío hoy", from_me=True))
    tick = wait(driver, lambda d: [t.get_attribute("class") for t in d.find_elements(By.CSS_SELECTOR, "#thread .bubble.mine .tick")])
    check("read" not in tick[0], "a sent message starts without the read ticks")
    post("message.ack", {"messageId": "OUT1", "ack": 3, "timestamp": int(time.time())})
    wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#thread .bubble.mine .tick.read"), 2)
    check(True, "an ack turns the ticks to read")

    # Hostile text is shown as text and runs nothing.
    hostile = '<img src=x onerror="window.__pwned=1">'
    post("message.received", message("X1", hostile))
    wait(driver, lambda d: hostile in d.find_element(By.ID, "thread").text, 2)
    check(driver.execute_script("return window.__pwned === undefined && document.querySelectorAll('#thread img').length === 0"),
          "a body with markup is shown literally and runs nothing")
    driver.save_screenshot(f"{SHOTS}/inbox-1440.png")

    # What the phone shows, in a WAHA group: the author's name, a media card, a reaction chip,
    # an "edited" mark and a "deleted" tombstone — each arriving live.
    group, now = "120363000000000009@g.us", int(time.time())
    post_waha("group.v2.join", {"group": {"id": group, "subject": "Pedidos", "participants": [
        {"id": "5511988887777@c.us", "role": "admin"}]}, "timestamp": now - 100})
    def group_message(key, extra):
        payload = {"id": f"false_{group}_{key}_5511988887777@c.us", "timestamp": now - 50, "from": group, "fromMe": False,
                   "participant": "5511988887777@c.us", "hasMedia": False, "_data": {"pushName": "Caio Souza"}}
        payload.update(extra)
        post_waha("message", payload)
    group_message("G1", {"body": "dois cafés, por favor"})
    group_message("G2", {"body": "", "hasMedia": True, "_data": {"pushName": "Caio Souza", "message": {"documentMessage": {
        "mimetype": "application/pdf", "fileName": "cardapio.pdf", "fileLength": "248000", "title": "cardapio.pdf"}}}})
    group_message("G3", {"body": "mensagem errada"})
    click_first(driver, lambda d: [c for c in d.find_elements(By.CSS_SELECTOR, "#conversations .conversation") if "Pedidos" in c.text])
    wait(driver, lambda d: "dois cafés" in d.find_element(By.ID, "thread").text)
    post_waha("message.reaction", {"id": f"false_{group}_R1", "from": group, "fromMe": False, "participant": "5511988887777@c.us",
                                   "timestamp": now - 40, "reaction": {"text": "👍", "messageId": f"false_{group}_G1_5511988887777@c.us"}})
    post_waha("message.edited", {"id": f"false_{group}_E1", "from": group, "fromMe": False, "timestamp": now - 30,
                                 "editedMessageId": "G1", "body": "três cafés, por favor"})
    post_waha("message.revoked", {"after": {"id": f"false_{group}_D1", "timestamp": now - 20}, "revokedMessageId": "G3", "before": None})
    thread = lambda d: d.find_element(By.ID, "thread")
    wait(driver, lambda d: "três cafés" in thread(d).text and d.find_elements(By.CSS_SELECTOR, "#thread .chip")
         and d.find_elements(By.CSS_SELECTOR, "#thread .tombstone"), 3)
    text = thread(driver).text
    check("Caio Souza" in text, "a group message shows its author's name")
    check("cardapio.pdf" in text and "242.2 KB" in text, "a document shows as a card with its name and size")
    check(wait(driver, lambda d: d.find_element(By.CSS_SELECTOR, "#thread .chip").text) == "👍", "a reaction shows as a chip on its message")
    check("edited" in text and "dois cafés" not in text, "an edited message shows its new text and an edited mark")
    check("This message was deleted" in text and "mensagem errada" not in text, "a deleted message is a tombstone without its text")
    preview = wait(driver, lambda d: [c.text for c in d.find_elements(By.CSS_SELECTOR, "#conversations .conversation") if "Pedidos" in c.text])
    check(bool(preview) and "deleted" in preview[0], "the list's preview of a deleted last message says so")
    driver.save_screenshot(f"{SHOTS}/group-thread.png")

    # Search folds accents: "como" finds "cómo", the hit is marked, the snippet is text.
    driver.find_element(By.CSS_SELECTOR, "#tabs button[data-view=search]").click()
    driver.find_element(By.ID, "q").send_keys("como estas")
    driver.find_element(By.CSS_SELECTOR, "#search-form button").click()
    marks = wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#results mark"))
    check(any(m.text.lower() == "cómo" for m in marks), "search finds an accented word typed without accents")

    # Deliveries, forwarding, then the phone width.
    driver.find_element(By.CSS_SELECTOR, "#tabs button[data-view=deliveries]").click()
    wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#delivery-list li"))
    driver.find_element(By.CSS_SELECTOR, "#tabs button[data-view=forwarding]").click()
    card = wait(driver, lambda d: next((c.text for c in d.find_elements(By.CSS_SELECTOR, "#target-list li") if "answered 500" in c.text), None), 15)
    check(bool(card) and "default" in card and "Waiting" in card, "the Forwarding tab shows the target, its backlog and its last error")
    driver.save_screenshot(f"{SHOTS}/forwarding.png")
    driver.find_element(By.CSS_SELECTOR, "#tabs button[data-view=inbox]").click()
    driver.set_window_size(375, 800)
    time.sleep(0.3)
    wide = driver.execute_script("return document.documentElement.scrollWidth - document.documentElement.clientWidth")
    check(wide <= 0, f"no sideways scrolling at 375 px ({wide} px over)")
    driver.save_screenshot(f"{SHOTS}/inbox-375.png")

    errors = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
    check(not errors, f"no errors in the browser console {errors}")

    # Another client's token: signed in with a read token limited to session "beta", the console
    # shows beta's conversation, session and deliveries, live too, and nothing of "crm".
    driver.set_window_size(1440, 900)
    request = urllib.request.Request(f"{base}/api/admin/tokens", method="POST",
                                     data=json.dumps({"name": "beta-crm", "sessions": ["beta"]}).encode(),
                                     headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:
        beta_token = json.load(response)["data"]["token"]
    post("message.received", message("B1", "Mensaje del cliente beta", chat="34699000002@c.us"), session="beta")
    driver.find_element(By.ID, "signout").click()
    field = wait(driver, lambda d: d.find_element(By.ID, "token") if d.find_element(By.ID, "token").is_displayed() else None)
    field.clear()
    field.send_keys(beta_token)
    driver.find_element(By.CSS_SELECTOR, "#signin-form button").click()
    wait(driver, lambda d: d.find_element(By.ID, "live").text == "live")
    wait(driver, lambda d: "cliente beta" in d.find_element(By.ID, "conversations").text)
    post("message.received", message("M9", "Nuevo mensaje de crm"))
    post("message.received", message("B2", "Segundo mensaje beta", chat="34699000002@c.us"), session="beta")
    wait(driver, lambda d: "Segundo mensaje beta" in d.find_element(By.ID, "conversations").text)
    listed = driver.find_element(By.ID, "conversations").text
    check("presupuesto" not in listed and "crm" not in listed and "Nuevo mensaje" not in listed and "34612345678" not in listed,
          "a token of another session sees only its own conversations, live too")
    driver.find_element(By.CSS_SELECTOR, "#tabs button[data-view=sessions]").click()
    cards = wait(driver, lambda d: d.find_element(By.ID, "session-list").text or None)
    check("beta" in cards and "crm" not in cards and not driver.find_elements(By.CSS_SELECTOR, "#session-list img.qr"),
          "its Sessions view shows only its session, without the other's QR code")
    driver.find_element(By.CSS_SELECTOR, "#tabs button[data-view=search]").click()
    box = driver.find_element(By.ID, "q")
    box.clear()
    box.send_keys("presupuesto")
    driver.find_element(By.CSS_SELECTOR, "#search-form button").click()
    time.sleep(0.5)
    check(not driver.find_elements(By.CSS_SELECTOR, "#results mark"), "its search finds nothing of the other session")
    driver.find_element(By.CSS_SELECTOR, "#tabs button[data-view=deliveries]").click()
    deliveries = wait(driver, lambda d: d.find_element(By.ID, "delivery-list").text or None)
    rows = driver.find_elements(By.CSS_SELECTOR, "#delivery-list li")
    check(len(rows) == 2 and all(" beta " in row.text for row in rows) and "crm" not in deliveries,
          f"its Deliveries view lists only its session's deliveries ({len(rows)})")
    errors = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
    driver.find_element(By.CSS_SELECTOR, "#tabs button[data-view=forwarding]").click()
    note = wait(driver, lambda d: d.find_element(By.ID, "forwarding-note").text)
    check("admin token of every session" in note and not driver.find_elements(By.CSS_SELECTOR, "#target-list li"),
          "a limited token is told forwarding needs an admin token of every session")
    check(not errors, f"no errors in the browser console with a limited token {errors}")
except Exception as error:  # a timeout or a missing element is a failure, with a screenshot
    failures.append(repr(error))
    print("  FAIL", repr(error))
    if driver:
        driver.save_screenshot(f"{SHOTS}/failure.png")
finally:
    if driver:
        driver.quit()
    server.stop()
    crm.shutdown()

print(f"console screenshots: {SHOTS}")
sys.exit(1 if failures else 0)
