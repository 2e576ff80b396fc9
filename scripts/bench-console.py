#!/usr/bin/env python3
"""How long the console takes to show the first conversations after signing in, on a big database.

usage: scripts/bench-console.py DATABASE [BINARY=.build/release/inboxlite]
(e.g. the database `BENCH_DB=… scripts/bench-query.sh` filled). Headless Chromium, three runs.
"""
import os, subprocess, socket, time, urllib.request, sys
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.support.ui import WebDriverWait
with socket.socket() as s:
    s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
binary = sys.argv[2] if len(sys.argv) > 2 else os.path.join(root, ".build/release/inboxlite")
srv = subprocess.Popen([binary, "serve", "--db", sys.argv[1], "--port", str(port),
    "--webhook-secret", "x", "--api-token", "tok", "--log-level", "warning", "--migrations", os.path.join(root, "Migrations")],
    env={**os.environ, "INBOXLITE_CONSOLE": os.path.join(root, "Console"), "INBOXLITE_OPENAPI": os.path.join(root, "openapi.yaml")})
base = f"http://127.0.0.1:{port}"
for _ in range(100):
    try: urllib.request.urlopen(base + "/healthz", timeout=1); break
    except Exception: time.sleep(0.1)
o = webdriver.ChromeOptions()
for f in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1440,900"]: o.add_argument(f)
d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)
try:
    times = []
    for run in range(3):
        d.get(base + "/")
        d.execute_script("sessionStorage.clear()")
        d.get(base + "/")
        d.find_element(By.ID, "token").send_keys("tok")
        t = time.time()
        d.find_element(By.CSS_SELECTOR, "#signin-form button").click()
        WebDriverWait(d, 10, poll_frequency=0.01).until(lambda x: x.find_elements(By.CSS_SELECTOR, "#conversations .conversation"))
        times.append(time.time() - t)
        n = len(d.find_elements(By.CSS_SELECTOR, "#conversations .conversation"))
    print("first conversations visible after sign-in:", ", ".join(f"{x*1000:.0f} ms" for x in times), f"({n} shown)")
finally:
    d.quit(); srv.terminate(); srv.wait()
