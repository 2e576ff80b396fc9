"""A live `inboxlite serve` for the scripted tests (console_test.py, pooling_client_test.py): a
fresh database in a temp folder, a free port, fixed secrets, and webhooks signed as Inbox Hub signs
them."""
import hashlib, hmac, json, shutil, socket, subprocess, tempfile, time, urllib.request
from datetime import datetime, timezone
from pathlib import Path


class ThrowawayPostgres:
    """A throwaway PostgreSQL cluster (scripts/postgres-cluster.sh) in a temp folder, with one
    database for nodes to share (`database_url`); `pause` and `resume` make an outage, `stop`
    removes it all."""
    SCRIPT = str(Path(__file__).parent / "postgres-cluster.sh")

    def __init__(self, database):
        self.folder = tempfile.mkdtemp(prefix="inboxlite-postgres-")
        url = subprocess.check_output([self.SCRIPT, "start", self.folder], text=True).strip()
        try:
            subprocess.run(["psql", url, "-qc", f"CREATE DATABASE {database}"], check=True)
        except BaseException:
            self.stop()
            raise
        self.database_url = url.rsplit("/", 1)[0] + "/" + database

    def pause(self):
        subprocess.run([self.SCRIPT, "pause", self.folder], check=True)

    def resume(self):
        subprocess.run([self.SCRIPT, "resume", self.folder], check=True)

    def stop(self):
        subprocess.run([self.SCRIPT, "stop", self.folder], check=False)


class LiveServer:
    """On SQLite in a temp folder, or on the PostgreSQL database `database_url` names (a node)."""
    def __init__(self, binary, secret, token, *extra_arguments, database_url=None):
        self.secret, self.token = secret, token
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.folder = None if database_url else tempfile.mkdtemp(prefix="inboxlite-script-")
        database = ["--database-url", database_url] if database_url else ["--db", f"{self.folder}/db.sqlite"]
        self.command = [binary, "serve", *database, "--webhook-secret", secret, "--api-token", token,
                        "--log-level", "warning", *extra_arguments]
        self.start()

    def start(self):
        self.process = subprocess.Popen(self.command + ["--port", str(self.port)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def kill(self):
        """kill -9: no drain, no goodbye."""
        self.process.kill()
        self.process.wait(timeout=10)

    def wait_until_ready(self):
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{self.base}/healthz", timeout=1)
                return
            except Exception:
                time.sleep(0.1)

    def stop(self):
        """SIGTERM, then the temp folder goes (the database in it with it)."""
        self.process.terminate()
        self.process.wait(timeout=10)
        if self.folder:
            shutil.rmtree(self.folder, ignore_errors=True)

    def inbox_hub_webhook(self, event, data, session="crm"):
        """The body and headers of a signed Inbox Hub webhook."""
        now = datetime.now(timezone.utc)
        body = json.dumps({"event": event, "sessionId": session, "data": data,
                           "timestamp": now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"}).encode()
        return body, {"Content-Type": "application/json", "X-Webhook-Session": session,
                      "X-Webhook-Signature": "sha256=" + hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest(),
                      "X-Webhook-Timestamp": str(int(time.time() * 1000))}
