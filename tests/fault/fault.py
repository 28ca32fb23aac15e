#!/usr/bin/env python3
"""Tessera's fault-injection harness (see tests/fault/README.md).

Starts a private PostgreSQL cluster (its own port on 127.0.0.1, its own temp
directory), runs `tessera serve` against it, drives load with threads and
http.client, injects faults (kill -9, SIGTERM, SMTP outages, a stalling TCP
proxy, a full disk) and measures what users would see. Prints each scenario's
figures and a summary table; exits 1 when any figure misses its target.

Python 3 standard library only. Everything it starts it stops, by PID.
"""

import argparse
import asyncio
import html.parser
import http.client
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SECRET = "fault-harness-session-secret-0123456789abcdef"
DEMO = "demo"
PASSWORD = "tessera-demo"
AGENT = "agent@demo.test"
CUSTOMER = "customer@demo.test"


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(values, p):
    if not values:
        return 0.0
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def ms(seconds):
    return f"{seconds * 1000:.0f} ms"


# --- figures -------------------------------------------------------------------


class Figures:
    """One scenario's measured figures, each with its target."""

    def __init__(self, scenario):
        self.scenario = scenario
        self.rows = []  # (figure, value, target, ok or None)
        self.skipped = None

    def add(self, figure, value, target="", ok=None):
        self.rows.append((figure, str(value), target, ok))
        mark = "" if ok is None else ("  ok" if ok else "  BROKEN")
        log(f"  {figure}: {value}{'  (target ' + target + ')' if target else ''}{mark}")

    def check(self, figure, value, ok, target):
        self.add(figure, value, target, bool(ok))

    def skip(self, reason):
        self.skipped = reason
        log(f"  SKIPPED: {reason}")

    @property
    def broken(self):
        return any(ok is False for _, _, _, ok in self.rows)


# --- PostgreSQL ----------------------------------------------------------------


def pg_bin_dir():
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), reverse=True)
    if not candidates:
        sys.exit("fault: PostgreSQL's initdb was not found (apt-get install postgresql)")
    return candidates[0].parent


class Cluster:
    """A private PostgreSQL cluster: its own directory and port, so killing it
    touches nothing else. PostgreSQL refuses to run as root; as root the
    cluster runs as the `postgres` system user (as Tessera's local mode does)."""

    def __init__(self, work):
        self.bin = pg_bin_dir()
        self.dir = work / "pg"
        self.sock = work / "pgsock"
        self.logfile = work / "pg.log"
        self.port = free_port()
        self.user = "postgres" if os.geteuid() == 0 else None

    def _run(self, args, **kw):
        return subprocess.run(
            [str(a) for a in args], user=self.user, check=True,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kw)

    def init(self):
        for d in (self.dir, self.sock):
            d.mkdir(parents=True)
            if self.user:
                shutil.chown(d, self.user, self.user)
        self.logfile.touch()
        if self.user:
            shutil.chown(self.logfile, self.user, self.user)
        self._run([self.bin / "initdb", "-D", self.dir, "-U", "postgres", "--auth=trust",
                   "-E", "UTF8", "--locale=C", "--no-sync"])
        with open(self.dir / "postgresql.conf", "a") as conf:
            conf.write(f"port = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                       f"unix_socket_directories = '{self.sock}'\nmax_connections = 300\n"
                       "shared_buffers = 64MB\nfsync = on\nsynchronous_commit = on\n")

    def start(self):
        self._run([self.bin / "pg_ctl", "-D", self.dir, "-l", self.logfile, "-w", "-t", "60",
                   "start"])

    def stop(self):
        if (self.dir / "postmaster.pid").exists():
            subprocess.run([str(self.bin / "pg_ctl"), "-D", str(self.dir), "-m", "immediate",
                            "-w", "stop"], user=self.user, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)

    def postmaster_pid(self):
        return int((self.dir / "postmaster.pid").read_text().split()[0])

    def kill9(self):
        """kill -9 of the postmaster; its children (which notice and exit) get
        the same if they linger, by PID. Returns once none is left."""
        pid = self.postmaster_pid()
        children = [int(p) for p in subprocess.run(
            ["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True,
            text=True).stdout.split()]
        os.kill(pid, signal.SIGKILL)
        deadline = time.time() + 10
        while time.time() < deadline and any(Path(f"/proc/{c}").exists() for c in children):
            time.sleep(0.1)
        for child in children:
            try:
                os.kill(child, signal.SIGKILL)
            except ProcessLookupError:
                pass
        while any(Path(f"/proc/{c}").exists() for c in children + [pid]):
            time.sleep(0.05)

    def url(self, db, port=None):
        return f"postgres://postgres@127.0.0.1:{port or self.port}/{db}"

    def psql(self, db, sql):
        out = subprocess.run(
            ["psql", "-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p",
             str(self.port), "-U", "postgres", "-d", db, "-c", sql],
            capture_output=True, text=True, timeout=60)
        if out.returncode != 0:
            raise RuntimeError(f"psql: {out.stderr.strip()}")
        return out.stdout.strip()

    def scalar(self, db, sql):
        return int(self.psql(db, sql) or 0)

    def createdb(self, name):
        self.psql("postgres", f"create database {name}")


# --- Tessera -------------------------------------------------------------------


class Tessera:
    """One `tessera serve` process."""

    def __init__(self, harness, name, db_url, env=None):
        self.h = harness
        self.name = name
        self.port = free_port()
        self.data = harness.work / f"data-{name}"
        self.data.mkdir(exist_ok=True)
        self.logpath = harness.work / f"tessera-{name}.log"
        self.proc = None
        base = {k: v for k, v in os.environ.items()
                if not k.startswith("TESSERA") and k not in ("DATABASE_URL", "RUST_LOG")}
        base.update({
            "TESSERA__DATABASE__URL": db_url,
            "TESSERA__SERVER__BIND": f"127.0.0.1:{self.port}",
            "TESSERA__SERVER__DATA_DIR": str(self.data),
            "TESSERA__SERVER__PUBLIC_URL": f"http://127.0.0.1:{self.port}",
            "TESSERA__SESSION__SECRET": SECRET,
            "TESSERA__LOG__FILTER": "info,sqlx=warn,tower_sessions=warn,tower_http=warn",
        })
        base.update(env or {})
        self.env = base

    def start(self, demo=True, wait=True):
        self.logfile = open(self.logpath, "ab")
        args = [str(self.h.bin), "serve"] + (["--demo"] if demo else [])
        self.proc = subprocess.Popen(args, env=self.env, cwd=self.h.work, stdout=self.logfile,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        self.h.procs.append(self.proc)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=180):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"tessera {self.name} exited ({self.proc.returncode}); "
                                   f"see {self.logpath}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    conn.close()
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"tessera {self.name} did not come up in {timeout} s")

    def kill9(self):
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def term(self):
        os.kill(self.proc.pid, signal.SIGTERM)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.kill9()

    def proc_status(self):
        """(RSS in MB, OS threads) of the process."""
        fields = {}
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            fields[key] = value.strip()
        return int(fields["VmRSS"].split()[0]) / 1024, int(fields["Threads"])

    def client(self, timeout=30):
        return Client(self.port, timeout)


# --- HTTP ----------------------------------------------------------------------


class FormParser(html.parser.HTMLParser):
    """The fields a browser would send for the form whose action ends with
    `action`: hidden and text inputs, textareas, and each select's chosen option."""

    def __init__(self, action):
        super().__init__()
        self.action = action
        self.inside = False
        self.fields = []
        self.select = None
        self.select_value = None
        self.textarea = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.inside = (a.get("action") or "").endswith(self.action)
        if not self.inside:
            return
        if tag == "input" and a.get("name") and a.get("type", "text") not in (
                "file", "submit", "checkbox", "radio"):
            self.fields.append((a["name"], a.get("value") or ""))
        elif tag == "select" and a.get("name"):
            self.select, self.select_value = a["name"], None
        elif tag == "option" and self.select:
            if self.select_value is None or "selected" in a:
                self.select_value = a.get("value") or ""
        elif tag == "textarea" and a.get("name"):
            self.textarea = a["name"]
            self.fields.append((a["name"], ""))

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select" and self.select:
            self.fields.append((self.select, self.select_value or ""))
            self.select = None
        elif tag == "textarea":
            self.textarea = None


def form_fields(page, action):
    parser = FormParser(action)
    parser.feed(page)
    return parser.fields


class Client:
    """A browser-ish client: cookies, one keep-alive connection, CSRF tokens."""

    def __init__(self, port, timeout=30):
        self.port = port
        self.timeout = timeout
        self.cookies = {}
        self.conn = None

    def close(self):
        if self.conn:
            self.conn.close()
            self.conn = None

    def request(self, method, path, body=None, headers=None):
        """(status, headers, body). Raises OSError/HTTPException when no answer came."""
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        hdrs = dict(headers or {})
        if self.cookies:
            hdrs["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            self.conn.request(method, path, body=body, headers=hdrs)
            resp = self.conn.getresponse()
            data = resp.read()
        except Exception:
            self.close()
            raise
        for cookie in resp.headers.get_all("Set-Cookie") or []:
            name, _, rest = cookie.partition("=")
            value = rest.split(";")[0]
            if value and "Max-Age=0" not in cookie:
                self.cookies[name.strip()] = value
            else:
                self.cookies.pop(name.strip(), None)
        if resp.getheader("Connection", "").lower() == "close":
            self.close()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data

    def get(self, path):
        return self.request("GET", path)

    def post_form(self, path, fields, headers=None):
        body = urllib.parse.urlencode(fields)
        hdrs = {"Content-Type": "application/x-www-form-urlencoded"}
        hdrs.update(headers or {})
        return self.request("POST", path, body, hdrs)

    def post_multipart(self, path, fields, files, headers=None):
        boundary = uuid.uuid4().hex
        parts = []
        for name, value in fields:
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"'
                         f"\r\n\r\n{value}\r\n".encode())
        for name, filename, data, ctype in files:
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                         f'filename="{filename}"\r\nContent-Type: {ctype}\r\n\r\n'.encode()
                         + data + b"\r\n")
        parts.append(f"--{boundary}--\r\n".encode())
        hdrs = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
        hdrs.update(headers or {})
        return self.request("POST", path, b"".join(parts), hdrs)

    def login(self, email, tenant=DEMO, password=PASSWORD):
        status, _, page = self.get(f"/{tenant}/login")
        fields = dict(form_fields(page.decode(), f"/{tenant}/login"))
        fields.update(email=email, password=password)
        status, headers, _ = self.post_form(f"/{tenant}/login", list(fields.items()))
        if status != 303:
            raise RuntimeError(f"signing in as {email}: {status}")
        return self

    def new_ticket_form(self, tenant=DEMO):
        """The create form's fields as the browser would send them (the hidden
        idempotency key included)."""
        status, _, page = self.get(f"/{tenant}/tickets/new")
        if status != 200:
            raise RuntimeError(f"ticket form: {status}")
        return form_fields(page.decode(), f"/{tenant}/tickets")


def ticket_fields(form, subject, key):
    fields = [(k, v) for k, v in form if k not in ("subject", "description", "idempotency_key",
                                                   "refresh")]
    # The CSRF token first (multipart forms carry it in their first field).
    fields.sort(key=lambda kv: kv[0] != "csrf_token")
    fields += [("subject", subject), ("description", f"Written by the fault harness: {subject}")]
    if key:
        fields.append(("idempotency_key", key))
    return fields


def created_number(status, headers):
    """The ticket number a create answered with (303 to /tickets/N), else None."""
    if status != 303:
        return None
    m = re.search(r"/tickets/(\d+)\?notice=created", headers.get("location", ""))
    return int(m.group(1)) if m else None


class Recorder:
    """Every request: start, end, kind, status (an int, or 'conn:…' when no answer)."""

    def __init__(self):
        self.rows = []
        self.lock = threading.Lock()

    def call(self, kind, fn):
        t0 = time.time()
        try:
            status, headers, body = fn()
        except Exception as e:  # no answer at all
            status, headers, body = f"conn:{type(e).__name__}", {}, b""
        t1 = time.time()
        with self.lock:
            self.rows.append((t0, t1, kind, status))
        return status, headers, body

    def between(self, start, end, kind=None):
        return [r for r in self.rows if start <= r[0] < end and (kind is None or r[2] == kind)]


def ok_status(status):
    return isinstance(status, int) and 200 <= status < 400


# --- SMTP sink -----------------------------------------------------------------


class SmtpSink:
    """An SMTP server on asyncio streams with switchable behaviour:
    down (not listening), up (accepts mail), hang (accepts the connection and
    never answers), 4xx (451 to MAIL), 5xx (554 to MAIL)."""

    def __init__(self):
        self.port = free_port()
        self.mode = "down"
        self.messages = []  # Message-IDs received
        self.loop = asyncio.new_event_loop()
        self.server = None
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def set(self, mode):
        async def apply():
            if mode == "down":
                if self.server:
                    self.server.close()
                    await self.server.wait_closed()
                    self.server = None
            elif self.server is None:
                self.server = await asyncio.start_server(self.session, "127.0.0.1", self.port,
                                                         reuse_address=True)
            self.mode = mode
        asyncio.run_coroutine_threadsafe(apply(), self.loop).result(10)

    async def session(self, reader, writer):
        try:
            if self.mode == "hang":
                await reader.read()  # until the client gives up
                return
            writer.write(b"220 fault-sink ESMTP\r\n")
            while True:
                line = await reader.readline()
                if not line:
                    return
                cmd = line.decode(errors="replace").strip().upper()
                if cmd.startswith("EHLO"):
                    writer.write(b"250-fault-sink\r\n250 8BITMIME\r\n")
                elif cmd.startswith("MAIL"):
                    if self.mode == "4xx":
                        writer.write(b"451 4.3.0 try again later\r\n")
                    elif self.mode == "5xx":
                        writer.write(b"554 5.3.0 refused\r\n")
                    else:
                        writer.write(b"250 OK\r\n")
                elif cmd == "DATA":
                    writer.write(b"354 go ahead\r\n")
                    await writer.drain()
                    data = b""
                    while not data.endswith(b"\r\n.\r\n"):
                        chunk = await reader.readline()
                        if not chunk:
                            return
                        data += chunk
                    m = re.search(rb"^Message-ID:\s*(\S+)", data, re.M | re.I)
                    self.messages.append(m.group(1).decode() if m else f"none-{uuid.uuid4()}")
                    writer.write(b"250 queued\r\n")
                elif cmd == "QUIT":
                    writer.write(b"221 bye\r\n")
                    await writer.drain()
                    return
                else:  # HELO, RCPT, RSET, NOOP …
                    writer.write(b"250 OK\r\n")
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    def close(self):
        self.set("down")
        self.loop.call_soon_threadsafe(self.loop.stop)


# --- TCP proxy -----------------------------------------------------------------


class Proxy:
    """A TCP proxy in front of PostgreSQL: pass, stall (holds every byte, both
    ways, and new connections, until pass again) or reset (drops every
    connection with RST and refuses new ones by closing them)."""

    def __init__(self, upstream_port):
        self.port = free_port()
        self.upstream = upstream_port
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.flowing = None
        self.mode = "pass"
        self.conns = set()
        self.server = asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(10)

    async def _start(self):
        self.flowing = asyncio.Event()
        self.flowing.set()
        return await asyncio.start_server(self.handle, "127.0.0.1", self.port)

    def set(self, mode):
        async def apply():
            self.mode = mode
            if mode == "stall":
                self.flowing.clear()
            else:
                self.flowing.set()
            if mode == "reset":
                for w in list(self.conns):
                    self._reset(w)
        asyncio.run_coroutine_threadsafe(apply(), self.loop).result(10)

    @staticmethod
    def _reset(writer):
        sock = writer.get_extra_info("socket")
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        except OSError:
            pass
        writer.transport.abort()

    async def handle(self, creader, cwriter):
        if self.mode == "reset":
            self._reset(cwriter)
            return
        await self.flowing.wait()
        try:
            ureader, uwriter = await asyncio.open_connection("127.0.0.1", self.upstream)
        except OSError:
            self._reset(cwriter)
            return
        self.conns.update((cwriter, uwriter))

        async def pump(reader, writer):
            try:
                while True:
                    data = await reader.read(65536)
                    if not data:
                        break
                    await self.flowing.wait()
                    writer.write(data)
                    await writer.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                for w in (cwriter, uwriter):
                    self.conns.discard(w)
                    w.transport.abort()

        await asyncio.gather(pump(creader, uwriter), pump(ureader, cwriter))

    def close(self):
        async def stop():
            self.server.close()
            for w in list(self.conns):
                w.transport.abort()
        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)


# --- the harness ---------------------------------------------------------------


class Harness:
    def __init__(self, args):
        self.args = args
        self.long = args.long
        self.bin = Path(args.bin).resolve()
        self.work = Path(tempfile.mkdtemp(prefix="tessera-fault-"))
        self.work.chmod(0o755)  # the cluster's user must reach its directory
        self.procs = []
        self.cluster = Cluster(self.work)
        self.results = []

    def close(self):
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        self.cluster.stop()
        if not self.args.keep:
            shutil.rmtree(self.work, ignore_errors=True)

    def tessera(self, name, db, env=None):
        return Tessera(self, name, self.cluster.url(db), env)

    def fresh_db(self, name):
        self.cluster.createdb(name)
        return name


def run_threads(targets):
    threads = [threading.Thread(target=t, daemon=True) for t in targets]
    for t in threads:
        t.start()
    return threads


# --- scenario 1: kill -9 of PostgreSQL -----------------------------------------


def scenario_pg_kill(h, f):
    outage = 15 if h.long else 5
    db = h.fresh_db("s_pg_kill")
    app = h.tessera("pgkill", db).start()
    first = app.client().login(AGENT)
    view = first.get("/demo/tickets/1")[0]
    if view != 200:
        raise RuntimeError(f"ticket 1: {view}")
    rec = Recorder()
    acked = {}  # key -> number
    unacked = []
    stop_new = threading.Event()
    give_up = [time.time() + 3600]

    def writer(i):
        c = app.client(timeout=30).login(CUSTOMER)
        form = c.new_ticket_form()
        while not stop_new.is_set():
            key = uuid.uuid4().hex
            subject = f"fault1 {key}"
            # Half send the form's hidden field, half the Idempotency-Key header.
            use_header = i % 2 == 1
            fields = ticket_fields(form, subject, None if use_header else key)
            headers = {"Idempotency-Key": key} if use_header else {}
            while True:
                status, hdrs, _ = rec.call("create", lambda: c.post_form(
                    "/demo/tickets", fields, headers))
                number = created_number(status, hdrs)
                if number:
                    acked[key] = number
                    break
                if time.time() > give_up[0]:
                    unacked.append(key)
                    break
                time.sleep(0.2)  # then the same key again

    def reader():
        c = app.client(timeout=30).login(AGENT)
        while not stop_new.is_set():
            rec.call("list", lambda: c.get("/demo/tickets"))
            rec.call("view", lambda: c.get("/demo/tickets/1"))

    threads = run_threads([lambda i=i: writer(i) for i in range(4)] + [reader, reader])
    time.sleep(4)
    t_kill = time.time()
    h.cluster.kill9()
    log(f"  PostgreSQL killed (kill -9); restarting in {outage} s")
    time.sleep(outage)
    t_restart = time.time()
    h.cluster.start()
    t_up = time.time()
    log("  PostgreSQL accepts connections again")
    time.sleep(11)
    give_up[0] = time.time() + 30
    stop_new.set()
    for t in threads:
        t.join(45)

    counts, numbers = {}, {}
    for line in h.cluster.psql(db, "select subject, number from tickets "
                                   "where subject like 'fault1 %'").splitlines():
        subject, _, number = line.rpartition("|")
        key = subject.removeprefix("fault1 ")
        counts[key] = counts.get(key, 0) + 1
        numbers[key] = int(number)
    lost = [k for k in acked if k not in counts]
    dupes = sum(n - 1 for n in counts.values() if n > 1)
    wrong = [k for k, n in acked.items() if k in numbers and numbers[k] != n]
    f.add("tickets acknowledged", len(acked))
    f.add("submissions retried across the outage (same key)",
          len({r[0] for r in rec.rows if r[2] == "create" and not ok_status(r[3])}))
    f.check("acknowledged tickets lost", len(lost), not lost, "0")
    f.check("duplicated tickets", dupes, dupes == 0, "0")
    f.check("acknowledged numbers that are another ticket", len(wrong), not wrong, "0")
    f.check("submissions never acknowledged", len(unacked), not unacked, "0")
    during = rec.between(t_kill + 0.5, t_up - 0.5)
    statuses = sorted({str(r[3]) for r in during})
    # A request may wait for a connection across the restart and succeed.
    not503 = [r for r in during if r[3] != 503 and not (ok_status(r[3]) and r[1] >= t_restart)]
    slowest = max((r[1] - r[0] for r in during), default=0)
    f.add("requests during the outage", len(during), "> 0", len(during) > 0)
    f.check("…answered other than 503 while it was down",
            f"{len(not503)} (statuses {', '.join(statuses)})", not not503, "0")
    f.check("…slowest answer", ms(slowest), slowest <= 5, "≤ 5000 ms (acquire timeout 3 s)")
    after = [r for r in rec.rows if r[1] > t_up]
    bad_after = [r for r in after if not ok_status(r[3])]
    recovery = max((r[1] for r in bad_after), default=t_up) - t_up
    f.check("errors stop after PostgreSQL returns within", f"{recovery:.1f} s", recovery <= 10,
            "≤ 10 s, Tessera not restarted")
    late = [r for r in after if r[0] > t_up + 10 and not ok_status(r[3])]
    f.check("errors later than 10 s after", len(late), not late, "0")
    f.check("Tessera process still the same", "running" if app.proc.poll() is None else "exited",
            app.proc.poll() is None, "running")
    app.stop()


# --- scenario 2: SIGTERM under load --------------------------------------------


def scenario_sigterm(h, f):
    db = h.fresh_db("s_sigterm")
    app = h.tessera("sigterm", db).start()
    rec = Recorder()
    stop = threading.Event()
    acked = {}

    def worker(i):
        c = app.client(timeout=40).login(AGENT if i % 2 else CUSTOMER)
        form = c.new_ticket_form()
        n = 0
        while not stop.is_set():
            n += 1
            if n % 3 == 0:
                key = uuid.uuid4().hex
                status, hdrs, _ = rec.call("create", lambda: c.post_form(
                    "/demo/tickets", ticket_fields(form, f"fault2 {key}", key)))
                if created_number(status, hdrs):
                    acked[key] = created_number(status, hdrs)
            elif n % 3 == 1:
                status, _, _ = rec.call("list", lambda: c.get("/demo/tickets?q=login"))
            else:
                status, _, _ = rec.call("view", lambda: c.get("/demo/tickets/1"))
            if isinstance(status, str):  # the server is gone
                break

    threads = run_threads([lambda i=i: worker(i) for i in range(8)])
    time.sleep(4)
    t_sig = time.time()
    app.term()
    try:
        code = app.proc.wait(40)
    except subprocess.TimeoutExpired:
        code = None
    t_exit = time.time()
    stop.set()
    for t in threads:
        t.join(10)
    before = rec.between(0, t_sig)
    inflight = [r for r in before if r[1] > t_sig]
    cut = [r for r in before if not isinstance(r[3], int)]
    failed = [r for r in before if isinstance(r[3], int) and r[3] >= 500]
    f.add("requests started before the signal", len(before))
    f.add("…of them still running at the signal", len(inflight))
    f.check("…cut off (no answer)", len(cut), not cut, "0")
    f.check("…answered 5xx", len(failed), not failed, "0")
    f.check("exit status", code, code == 0, "0")
    f.check("exit after the signal", f"{t_exit - t_sig:.1f} s", code is not None and
            t_exit - t_sig <= 30, "≤ 30 s")
    present = h.cluster.scalar(db, "select count(*) from tickets where subject like 'fault2 %'")
    stored = h.cluster.psql(db, "select subject from tickets where subject like 'fault2 %'")
    stored = [line.removeprefix("fault2 ") for line in stored.splitlines()]
    missing = [k for k in acked if stored.count(k) != 1]
    f.check("acknowledged tickets missing after shutdown", len(missing), not missing,
            f"0 (of {len(acked)}; {present} in the database)")
    conns = h.cluster.scalar(db, f"select count(*) from pg_stat_activity where datname = '{db}' "
                                 "and pid <> pg_backend_pid()")
    locks = h.cluster.scalar(db, "select count(*) from pg_locks l join pg_database d on "
                                 f"d.oid = l.database where d.datname = '{db}' and "
                                 "l.pid <> pg_backend_pid()")
    f.check("database connections left behind", conns, conns == 0, "0")
    f.check("row locks (job claims) left behind", locks, locks == 0, "0")
    # Another instance takes over: mail the first one had not sent goes out.
    pending = h.cluster.scalar(db, "select count(*) from email_outbox where status = 'pending'")
    second = h.tessera("sigterm-2", db).start(demo=False)
    deadline = time.time() + 30
    while time.time() < deadline and h.cluster.scalar(
            db, "select count(*) from email_outbox where status = 'pending' "
                "and next_attempt_at <= now()"):
        time.sleep(0.5)
    left = h.cluster.scalar(db, "select count(*) from email_outbox where status = 'pending' "
                                "and next_attempt_at <= now()")
    f.check("mail left unsent after a second instance started", left, left == 0,
            f"0 (was {pending})")
    second.stop()


# --- scenario 3: SMTP down, hanging, refusing ----------------------------------


def scenario_smtp(h, f):
    target = 200
    db = h.fresh_db("s_smtp")
    sink = SmtpSink()
    h.closers.append(sink.close)
    app = h.tessera("smtp", db, {
        "TESSERA__SMTP__HOST": "127.0.0.1",
        "TESSERA__SMTP__PORT": str(sink.port),
        "TESSERA__SMTP__SECURITY": "plain",
        "TESSERA__SMTP__FIRST_RETRY_SECS": "5",
        "TESSERA__SMTP__LONGEST_RETRY_SECS": "10",
        "TESSERA__SMTP__MAX_ATTEMPTS": "30",
    })
    sink.set("up")
    app.start()
    rec = Recorder()
    readers_stop = threading.Event()

    def reader():
        c = app.client().login(AGENT)
        while not readers_stop.is_set():
            rec.call("view", lambda: c.get("/demo/tickets/1"))
            rec.call("list", lambda: c.get("/demo/tickets"))

    def outbox():
        return h.cluster.scalar(db, "select count(*) from email_outbox where channel = 'email'")

    # Baseline page latency with the sink up.
    readers = run_threads([reader, reader])
    time.sleep(4 if not h.long else 10)
    t_base_end = time.time()
    # Let the demo's own mail go out, then take the server down.
    deadline = time.time() + 60
    while time.time() < deadline and h.cluster.scalar(
            db, "select count(*) from email_outbox where status <> 'sent'"):
        time.sleep(0.5)
    sink.set("down")
    start_count = outbox()
    t_down = time.time()
    log(f"  SMTP down; producing {target} notifications")

    stop_writers = threading.Event()
    write_errors = []

    def writer():
        c = app.client().login(CUSTOMER)
        form = c.new_ticket_form()
        while not stop_writers.is_set():
            key = uuid.uuid4().hex
            status, hdrs, _ = rec.call("create", lambda: c.post_form(
                "/demo/tickets", ticket_fields(form, f"fault3 {key}", key)))
            if not created_number(status, hdrs):
                write_errors.append(status)

    writers = run_threads([writer] * 3)
    deadline = time.time() + 180
    while time.time() < deadline and outbox() - start_count < target:
        time.sleep(0.3)
    stop_writers.set()
    for t in writers:
        t.join(30)
    produced = outbox() - start_count
    hold = 10 if h.long else 2
    time.sleep(hold)
    t_phase = {"down": (t_down, time.time())}
    for mode, secs in (("hang", 12 if h.long else 6), ("4xx", 10 if h.long else 4),
                       ("5xx", 10 if h.long else 4)):
        log(f"  SMTP {mode}")
        sink.set(mode)
        start = time.time()
        time.sleep(secs)
        t_phase[mode] = (start, time.time())
    total = outbox()
    sink.set("up")
    t_up = time.time()
    log("  SMTP up; waiting for the outbox to drain")
    delivered_at = None
    deadline = t_up + 180
    while time.time() < deadline:
        unsent = h.cluster.scalar(db, "select count(*) from email_outbox "
                                      "where channel = 'email' and status <> 'sent'")
        if unsent == 0 and len(set(sink.messages)) >= total:
            delivered_at = time.time()
            break
        time.sleep(0.5)
    readers_stop.set()
    for t in readers:
        t.join(30)

    base = [r[1] - r[0] for r in rec.between(0, t_base_end) if r[2] != "create"]
    base_p95 = pct(base, 95)
    f.check("notifications produced while SMTP was down", produced, produced >= target,
            f"≥ {target}")
    f.check("ticket submissions refused meanwhile", len(write_errors), not write_errors, "0")
    for mode, (start, end) in t_phase.items():
        rows = rec.between(start, end)
        # Page latency is judged on the readers' pages (the submissions of the
        # first phase are load of their own); errors on every request.
        lat = [r[1] - r[0] for r in rows if r[2] != "create"]
        errors = [r for r in rows if not ok_status(r[3])]
        p95 = pct(lat, 95)
        f.check(f"pages with SMTP {mode}: errors", len(errors), not errors, "0")
        f.check(f"pages with SMTP {mode}: p95 (baseline {ms(base_p95)})", ms(p95),
                p95 <= max(3 * base_p95, base_p95 + 0.25), "≤ 3 × baseline or + 250 ms")
        f.check(f"pages with SMTP {mode}: slowest", ms(max(lat, default=0)),
                max(lat, default=0) < 5, "< 5000 ms (SMTP timeout is 30 s)")
    sent = h.cluster.scalar(db, "select count(*) from email_outbox "
                                "where channel = 'email' and status = 'sent'")
    got = set(sink.messages)
    f.check("emails lost (in the outbox, never received)", total - len(got & got),
            delivered_at is not None and len(got) >= total, f"0 of {total}")
    f.check("outbox rows not marked sent", total - sent, total == sent, "0")
    f.add("duplicate deliveries", len(sink.messages) - len(got))
    f.check("all delivered after SMTP returned within",
            f"{delivered_at - t_up:.1f} s" if delivered_at else "never",
            delivered_at is not None and delivered_at - t_up <= 120, "≤ 120 s")
    app.stop()


# --- scenario 4: kill -9 of Tessera during uploads -----------------------------


def storage_state(h, db, root):
    rows = set(h.cluster.psql(db, "select storage_key from attachments").split())
    files, temps = set(), 0
    if root.exists():
        for path in root.rglob("*"):
            if path.is_file():
                rel = path.relative_to(root).as_posix()
                if rel.startswith(".tmp/"):
                    temps += 1
                else:
                    files.add(rel)
    return rows, files, temps


def scenario_upload_crash(h, f):
    db = h.fresh_db("s_upload")
    app = h.tessera("upload", db).start()
    root = app.data / "attachments"
    stop = threading.Event()
    acked = {}

    def uploader(i):
        c = app.client().login(CUSTOMER)
        form = c.new_ticket_form()
        rnd = random.Random(i)
        while not stop.is_set():
            key = uuid.uuid4().hex
            files = [("attachments", f"report-{j}.txt",
                      (f"{key} {j}\n".encode() * rnd.randint(2000, 30000)), "text/plain")
                     for j in range(rnd.randint(1, 3))]
            try:
                status, hdrs, _ = c.post_multipart(
                    "/demo/tickets", ticket_fields(form, f"fault4 {key}", key), files)
            except Exception:
                break
            if created_number(status, hdrs):
                acked[key] = len(files)

    threads = run_threads([lambda i=i: uploader(i) for i in range(4)])
    time.sleep(5)
    app.kill9()
    log("  Tessera killed (kill -9) during uploads")
    stop.set()
    for t in threads:
        t.join(10)
    rows, files, temps = storage_state(h, db, root)
    f.add("uploads acknowledged before the kill", len(acked))
    f.add("right after the kill: files without row / unfinished writes",
          f"{len(files - rows)} / {temps}")
    grace = 3
    again = h.tessera("upload", db, {"TESSERA__JOBS__ORPHAN_SWEEP_INTERVAL_SECS": "1",
                                     "TESSERA__JOBS__ORPHAN_GRACE_SECS": str(grace)})
    again.data, again.env["TESSERA__SERVER__DATA_DIR"] = app.data, str(app.data)
    again.start(demo=False)
    time.sleep(grace + 4)
    rows, files, temps = storage_state(h, db, root)
    f.check("rows without file", len(rows - files), rows <= files, "0")
    f.check("files without row (after the sweep)", len(files - rows), files <= rows, "0")
    f.check("unfinished writes left (after the sweep)", temps, temps == 0, "0")
    files_of = {}
    for line in h.cluster.psql(db, "select t.subject, count(a.id) from tickets t left join "
                                   "attachments a on a.tenant_id = t.tenant_id and a.ticket_id "
                                   "= t.id where t.subject like 'fault4 %' "
                                   "group by t.tenant_id, t.id"
                               ).splitlines():
        subject, _, n = line.rpartition("|")
        files_of[subject.removeprefix("fault4 ")] = int(n)
    missing = [k for k, n in acked.items() if files_of.get(k) != n]
    f.check("acknowledged uploads missing files", len(missing), not missing, "0")
    c = again.client().login(CUSTOMER)
    form = c.new_ticket_form()
    status, hdrs, _ = c.post_multipart("/demo/tickets", ticket_fields(form, "fault4 after", None),
                                       [("attachments", "after.txt", b"after\n", "text/plain")])
    f.check("upload after restart", status, created_number(status, hdrs), "303")
    again.stop()


# --- scenario 5: a database that stalls or resets ------------------------------


def scenario_proxy(h, f):
    db = h.fresh_db("s_proxy")
    proxy = Proxy(h.cluster.port)
    h.closers.append(proxy.close)
    timeout = 10
    app = Tessera(h, "proxy", h.cluster.url(db, proxy.port),
                  {"TESSERA__SERVER__REQUEST_TIMEOUT_SECS": str(timeout)}).start()
    rec = Recorder()
    stop = threading.Event()

    def reader():
        c = app.client(timeout=60).login(AGENT)
        while not stop.is_set():
            rec.call("view", lambda: c.get("/demo/tickets/1"))
            rec.call("list", lambda: c.get("/demo/tickets"))

    threads = run_threads([reader] * 4)
    time.sleep(5)
    rss0, threads0 = app.proc_status()
    phases = {}
    for mode, secs in (("stall", 15 if h.long else 8), ("pass", 12), ("reset", 4), ("pass", 12)):
        log(f"  proxy: {mode}")
        proxy.set(mode)
        start = time.time()
        time.sleep(secs)
        phases.setdefault(mode, []).append((start, time.time()))
    stop.set()
    for t in threads:
        t.join(60)
    rss1, threads1 = app.proc_status()
    for mode in ("stall", "reset"):
        for start, end in phases[mode]:
            # With the requests the fault caught in flight.
            rows = [r for r in rec.rows if r[0] < end and r[1] > start]
            lat = [r[1] - r[0] for r in rows]
            unclean = [r for r in rows if r[3] not in (200, 503, 504)]
            f.add(f"{mode}: requests", len(rows))
            f.check(f"{mode}: answers other than 200/503/504", len(unclean), not unclean, "0")
            f.check(f"{mode}: slowest answer", ms(max(lat, default=0)),
                    max(lat, default=0) <= timeout + 1, f"≤ {timeout + 1} s (request timeout)")
    for (start, end) in phases["pass"]:
        # Requests of this phase that it also saw end (not those the next caught).
        rows = [r for r in rec.between(start, end) if r[1] <= end]
        bad = [r for r in rows if r[3] != 200]
        recovery = max((r[1] for r in bad), default=start) - start
        detail = ", ".join(sorted({f"{r[3]} after {r[1] - r[0]:.1f} s" for r in bad})[:6])
        f.check("recovery after the proxy passes again",
                f"{recovery:.1f} s" + (f" ({detail})" if bad else ""), recovery <= 10, "≤ 10 s")
    f.check("RSS before → after", f"{rss0:.0f} → {rss1:.0f} MB", rss1 <= rss0 * 1.25 + 10,
            "≤ +25 %")
    f.check("OS threads before → after", f"{threads0} → {threads1}", threads1 <= threads0 + 4,
            "≤ +4")
    app.stop()


# --- scenario 6: auto-close with 3 workers, one killed -------------------------


def scenario_auto_close(h, f):
    n = 3000 if h.long else 1500
    db = h.fresh_db("s_autoclose")
    seed = h.tessera("autoclose-seed", db).start()
    seed.stop()
    h.cluster.psql(db, f"""
        with t as (select * from tickets order by number limit 1),
             s as (select st.id from ticket_statuses st, t
                    where st.tenant_id = t.tenant_id and st.category = 'resolved'
                    order by st.is_default desc limit 1),
             c as (select next_number from ticket_counters, t
                    where ticket_counters.tenant_id = t.tenant_id)
        insert into tickets (tenant_id, id, number, subject, description, type_id, priority_id,
                             status_id, status_category, priority_rank, requester_id,
                             created_at, updated_at, resolved_at)
        select t.tenant_id, gen_random_uuid(), c.next_number + g, 'fault6 ' || g, '',
               t.type_id, t.priority_id, s.id, 'resolved', t.priority_rank, t.requester_id,
               now() - interval '90 days', now() - interval '60 days',
               now() - interval '60 days' + g * interval '1 second'
          from generate_series(0, {n - 1}) g, t, s, c;
        update ticket_counters set next_number = next_number + {n}
         where tenant_id = (select tenant_id from tickets order by number limit 1);
    """)
    env = {"TESSERA__JOBS__AUTO_CLOSE_INTERVAL_SECS": "1"}
    workers = [h.tessera(f"autoclose-{i}", db, env) for i in range(3)]
    for w in workers:
        w.start(demo=False, wait=False)
    closed_sql = ("select count(*) from tickets where subject like 'fault6 %' "
                  "and status_category = 'closed'")
    victim = workers[1]
    deadline = time.time() + 120
    killed_at = None
    while time.time() < deadline:
        done = h.cluster.scalar(db, closed_sql)
        busy = h.cluster.scalar(db, "select count(*) from pg_stat_activity where query like "
                                    "'%with due as%' and state = 'active'")
        if killed_at is None and (busy or done):
            victim.kill9()
            killed_at = done
            log(f"  killed one worker (kill -9) with {done} of {n} closed, "
                f"{busy} batch(es) running")
        if done >= n:
            break
        time.sleep(0.02)
    time.sleep(3)  # another round: nothing more may change
    done = h.cluster.scalar(db, closed_sql)
    events = h.cluster.psql(db, """
        select count(*) filter (where e = 1), count(*) filter (where e <> 1)
          from (select t.id, count(ev.id) as e from tickets t
                  left join ticket_events ev on ev.tenant_id = t.tenant_id and ev.ticket_id = t.id
                   and ev.kind = 'field_changed' and ev.field = 'status'
                 where t.subject like 'fault6 %' group by t.id) x""").split("|")
    f.add("resolved tickets past their window", n)
    f.add("closed when one worker was killed", killed_at)
    f.check("tickets closed", done, done == n, str(n))
    f.check("tickets with exactly one close event", events[0], int(events[0]) == n, str(n))
    f.check("tickets with none or several", events[1], int(events[1]) == 0, "0")
    for w in workers:
        w.stop()


# --- scenario 7: disk full for attachments -------------------------------------


def scenario_disk_full(h, f):
    mnt = h.work / "small-disk"
    mnt.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mnt)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        f.skip(f"cannot mount a tmpfs here ({mounted.stderr.strip() or 'not permitted'})")
        return
    h.closers.append(lambda: subprocess.run(["umount", "-l", str(mnt)],
                                            stderr=subprocess.DEVNULL))
    store = mnt / "attachments"
    db = h.fresh_db("s_disk")
    app = h.tessera("disk", db, {"TESSERA__ATTACHMENTS__DIR": str(store)}).start()
    c = app.client().login(CUSTOMER)
    form = c.new_ticket_form()
    filler = mnt / "filler"
    with open(filler, "wb") as out:
        try:
            out.write(b"\0" * (2 * 1024 * 1024))
        except OSError:
            pass
    free = shutil.disk_usage(mnt).free
    log(f"  tmpfs full ({free} bytes free)")
    status, hdrs, body = c.post_multipart(
        "/demo/tickets", ticket_fields(form, "fault7 full", uuid.uuid4().hex),
        [("attachments", "big.txt", b"x" * 300_000, "text/plain")])
    page = body.decode(errors="replace")
    clean = (isinstance(status, int) and status in (503, 507)
             and "text/html" in hdrs.get("content-type", "") and "<html" in page.lower())
    title = re.search(r"<title>(.*?)</title>", page, re.S)
    f.check("upload to a full disk", f"{status} {title.group(1).strip() if title else ''}",
            clean, "507/503 error page")
    leaks = ("sqlx", "os error", "No space", "panicked", "/src/")
    f.check("internals on the error page", [w for w in leaks if w in page], not any(
        w in page for w in leaks), "none")
    rows, files, temps = storage_state(h, db, store)
    tickets = h.cluster.scalar(db, "select count(*) from tickets where subject = 'fault7 full'")
    f.check("partial files / unfinished writes / rows", f"{len(files - rows)} / {temps} / "
            f"{len(rows)} / ticket {tickets}", not (files - rows) and temps == 0 and tickets == 0,
            "0 / 0 / 0 / 0")
    status, _, _ = c.get("/demo/tickets")
    f.check("reading while full", status, status == 200, "200")
    filler.unlink()
    status, hdrs, _ = c.post_multipart(
        "/demo/tickets", ticket_fields(form, "fault7 after", uuid.uuid4().hex),
        [("attachments", "big.txt", b"x" * 300_000, "text/plain")])
    f.check("upload after space returns", status, created_number(status, hdrs), "303")
    rows, files, temps = storage_state(h, db, store)
    f.check("rows and files agree afterwards", f"{len(rows)} rows, {len(files)} files",
            rows == files and temps == 0, "equal")
    app.stop()


# --- scenario 8: sustained load with a realistic mix ---------------------------


def scenario_load(h, f):
    duration = 60 if h.long else 10
    db = h.fresh_db("s_load")
    app = h.tessera("load", db).start()
    seed = app.client().login(AGENT)
    form = seed.new_ticket_form()
    numbers = [n for n in range(1, 30) if seed.get(f"/demo/tickets/{n}")[0] == 200]
    for i in range(20):
        status, hdrs, _ = seed.post_form("/demo/tickets",
                                         ticket_fields(form, f"fault8 seed {i}", None))
        if created_number(status, hdrs):
            numbers.append(created_number(status, hdrs))
    rec = Recorder()
    stop = threading.Event()
    words = ["login", "email", "password", "invoice", "export", "error", "slow"]

    def user(i):
        c = app.client().login(AGENT)
        cform = c.new_ticket_form()
        rnd = random.Random(i)
        while not stop.is_set():
            roll = rnd.random()
            n = rnd.choice(numbers)
            if roll < 0.80:
                rec.call("view", lambda: c.get(f"/demo/tickets/{n}"))
            elif roll < 0.95:
                q = rnd.choice(["", f"?q={rnd.choice(words)}", "?sort=priority"])
                rec.call("list", lambda: c.get(f"/demo/tickets{q}"))
            else:
                files = ([("attachments", "log.txt", b"line\n" * 20_000, "text/plain")]
                         if rnd.random() < 0.2 else [])
                if rnd.random() < 0.5:
                    token = c.cookies and dict(cform).get("csrf_token")
                    fields = [("csrf_token", token), ("body", f"fault8 reply {uuid.uuid4()}")]
                    rec.call("write", lambda: c.post_multipart(
                        f"/demo/tickets/{n}/replies", fields, files))
                else:
                    fields = ticket_fields(cform, f"fault8 {uuid.uuid4().hex}",
                                           uuid.uuid4().hex)
                    rec.call("write", lambda: c.post_multipart("/demo/tickets", fields, files))

    rss = [app.proc_status()[0]]
    threads = run_threads([lambda i=i: user(i) for i in range(6)])
    t0 = time.time()
    while time.time() < t0 + duration:
        time.sleep(1)
        rss.append(app.proc_status()[0])
    stop.set()
    for t in threads:
        t.join(30)
    rows = rec.between(t0, t0 + duration)
    lat = [r[1] - r[0] for r in rows]
    errors = [r for r in rows if not ok_status(r[3])]
    kinds = {k: sum(1 for r in rows if r[2] == k) for k in ("view", "list", "write")}
    f.add("requests (views / lists+search / writes)",
          f"{len(rows)} ({kinds['view']} / {kinds['list']} / {kinds['write']})")
    f.add("throughput", f"{len(rows) / duration:.1f} req/s")
    f.add("p50 / p95 / p99", f"{ms(pct(lat, 50))} / {ms(pct(lat, 95))} / {ms(pct(lat, 99))}")
    f.add("RSS start → peak → end", f"{rss[0]:.0f} → {max(rss):.0f} → {rss[-1]:.0f} MB")
    f.check("errors", f"{len(errors)} {sorted({str(r[3]) for r in errors})}" if errors else 0,
            not errors, "0")
    app.stop()


SCENARIOS = [
    ("pg_kill", "1. kill -9 of PostgreSQL mid-load", scenario_pg_kill, True),
    ("sigterm", "2. SIGTERM under load", scenario_sigterm, True),
    ("smtp", "3. SMTP down / hanging / 4xx / 5xx", scenario_smtp, True),
    ("upload_crash", "4. kill -9 of Tessera during uploads", scenario_upload_crash, False),
    ("proxy", "5. database stalls and resets (TCP proxy)", scenario_proxy, False),
    ("auto_close", "6. auto-close, 3 workers, one killed", scenario_auto_close, False),
    ("disk_full", "7. disk full for attachments", scenario_disk_full, False),
    ("load", "8. sustained load, realistic mix", scenario_load, False),
]


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--long", action="store_true",
                        help="every scenario, long durations (default: the short tier)")
    parser.add_argument("--only", help="comma-separated scenario names: " +
                        ", ".join(s[0] for s in SCENARIOS))
    parser.add_argument("--bin", default=os.environ.get("TESSERA_BIN",
                                                        str(ROOT / "target/debug/tessera")))
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()
    if not Path(args.bin).exists():
        sys.exit(f"fault: no tessera binary at {args.bin} (cargo build, or --bin)")
    chosen = [s for s in SCENARIOS if (args.only and s[0] in args.only.split(","))
              or (not args.only and (args.long or s[3]))]
    if not chosen:
        sys.exit("fault: no such scenario")
    h = Harness(args)
    h.closers = []
    started = time.time()
    results = []
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        h.cluster.init()
        h.cluster.start()
        log(f"private PostgreSQL on 127.0.0.1:{h.cluster.port}, work dir {h.work}")
        for name, title, fn, _ in chosen:
            log(f"== {title}")
            figures = Figures(title)
            t0 = time.time()
            try:
                fn(h, figures)
            except Exception as e:
                traceback.print_exc()
                figures.check("scenario ran to the end", f"failed: {e}", False, "yes")
            figures.elapsed = time.time() - t0
            results.append(figures)
            for proc in h.procs:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
            while h.closers:
                try:
                    h.closers.pop()()
                except Exception:
                    pass
    finally:
        while h.closers:
            try:
                h.closers.pop()()
            except Exception:
                pass
        h.close()
    print("\n=== summary " + "=" * 66)
    width = max(len(r[0]) for f in results for r in f.rows) if results else 20
    for f in results:
        state = "SKIP" if f.skipped else ("BROKEN" if f.broken else "ok")
        print(f"\n{f.scenario}  [{state}, {f.elapsed:.0f} s]")
        if f.skipped:
            print(f"  skipped: {f.skipped}")
        for figure, value, target, ok in f.rows:
            mark = "" if ok is None else ("ok" if ok else "BROKEN")
            print(f"  {figure:<{width}}  {value:<28} {target:<34} {mark}")
    broken = [f.scenario for f in results if f.broken]
    print(f"\n{len(results)} scenarios in {time.time() - started:.0f} s: "
          + (f"BROKEN: {'; '.join(broken)}" if broken else "every figure on target"))
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
