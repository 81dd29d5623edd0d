"""Render a local HTML file in headless Chromium and collect what went wrong.

Standard library only: the DevTools protocol over ``--remote-debugging-pipe`` (Chromium
reads commands on fd 3, writes replies and events on fd 4, NUL-separated JSON). Errors
collected: uncaught exceptions, console.error, error log entries and failed loads.
"""

from __future__ import annotations

import json
import os
import pathlib
import select
import shutil
import subprocess
import tempfile
import time

FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
         "--no-default-browser-check", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--disable-extensions", "--host-resolver-rules=MAP * ~NOTFOUND", "--remote-debugging-pipe"]


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def need_chromium() -> None:
    """Skip a browser test where Chromium is missing, unless CI said it must be there
    (``MIDAIR_REQUIRE_BROWSER``, set by .ci/run once it installed Chromium): then fail."""
    import pytest

    if chromium() is None:
        if os.environ.get("MIDAIR_REQUIRE_BROWSER"):
            pytest.fail("Chromium is required here (MIDAIR_REQUIRE_BROWSER is set) but not installed")
        pytest.skip("Chromium is not installed (.ci/run installs it; apt-get install chromium)")


class _Pipe:
    def __init__(self, wfd: int, rfd: int):
        self.w, self.r, self.buf, self.n, self.events = wfd, rfd, b"", 0, []

    def send(self, method: str, params: dict | None = None, session: str | None = None, timeout: float = 15):
        self.n += 1
        msg = {"id": self.n, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            m = self.recv(deadline)
            if m is None:
                raise TimeoutError(f"no reply to {method}")
            if m.get("id") == self.n:
                if "error" in m:
                    raise RuntimeError(f"{method}: {m['error']}")
                return m.get("result", {})

    def recv(self, deadline: float):
        while b"\0" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.r], [], [], left)[0]:
                return None
            chunk = os.read(self.r, 1 << 20)
            if not chunk:
                raise RuntimeError("chromium closed the pipe")
            self.buf += chunk
        raw, self.buf = self.buf.split(b"\0", 1)
        m = json.loads(raw)
        if "method" in m:
            self.events.append(m)
        return m


def _errors(events: list[dict]) -> list[str]:
    errs, urls = [], {}
    for e in events:
        m, p = e["method"], e.get("params", {})
        if m == "Runtime.exceptionThrown":
            d = p["exceptionDetails"]
            errs.append("exception: " + d.get("exception", {}).get("description", d.get("text", "")))
        elif m == "Runtime.consoleAPICalled" and p["type"] in ("error", "assert"):
            errs.append("console.error: " + " ".join(str(a.get("value", a.get("description", ""))) for a in p["args"]))
        elif m == "Log.entryAdded" and p["entry"]["level"] == "error" and p["entry"]["source"] != "network":
            errs.append(f"log: {p['entry']['text']}")
        elif m == "Network.requestWillBeSent":
            urls[p["requestId"]] = p["request"]["url"]
        elif m == "Network.loadingFailed" and not p.get("canceled"):
            errs.append(f"failed load: {urls.get(p['requestId'], '?')} {p['errorText']}")
    return errs


def render(path: str, settle: float = 0.3, timeout: float = 30) -> tuple[str, list[str]]:
    """Load ``path``; return the final DOM (outerHTML) and the errors seen."""
    url = pathlib.Path(path).resolve().as_uri()
    profile = tempfile.mkdtemp(prefix="midair-chrome-")
    to_r, to_w = os.pipe()
    from_r, from_w = os.pipe()
    cmd = [chromium(), *FLAGS, f"--user-data-dir={profile}"]
    # hand the pipe ends over as stdin/stdout and let sh move them to fds 3 and 4
    proc = subprocess.Popen(["sh", "-c", 'exec "$@" 3<&0 4>&1 0</dev/null 1>/dev/null', "sh", *cmd],
                            stdin=to_r, stdout=from_w, stderr=subprocess.DEVNULL)
    os.close(to_r)
    os.close(from_w)
    cdp = _Pipe(to_w, from_r)
    try:
        target = cdp.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        s = cdp.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Runtime", "Log", "Network", "Page"):
            cdp.send(f"{domain}.enable", session=s)
        cdp.events.clear()
        cdp.send("Page.navigate", {"url": url}, session=s)
        deadline = time.monotonic() + timeout
        while not any(e["method"] == "Page.loadEventFired" for e in cdp.events):
            if cdp.recv(deadline) is None:
                raise TimeoutError(f"{url} did not finish loading in {timeout}s")
        end = time.monotonic() + settle
        while cdp.recv(end) is not None:
            pass
        dom = cdp.send("Runtime.evaluate", {"expression": "document.documentElement.outerHTML", "returnByValue": True},
                       session=s)["result"]["value"]
        errors = _errors(cdp.events)
        try:
            cdp.send("Browser.close", timeout=5)
        except (TimeoutError, RuntimeError):
            pass
        return dom, errors
    finally:
        os.close(to_w)
        os.close(from_r)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(profile, ignore_errors=True)
