"""The fault-injecting test harness: a FakeK8s (``tests.kube_fake``) served on loopback from its own
thread, on a port the system picks when it first starts and that it keeps across restarts (so
parallel test processes never collide, and clients find a restarted server where it was).

    with KubeHarness(objects) as api:
        api.fail(requests_to("GET", "/api/v1/pods"), status=500, times=2)   # two 500s
        api.storm(seconds=1.0, status=429, retry_after="0")                  # every request, for a second
        api.restart(down_s=1.0)                                              # connections refused meanwhile

A hook (a subprocess) restarts it with ``POST /midair-harness/restart?down=SECONDS``.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import types

import kmock
from aiohttp.test_utils import RawTestServer

from sim.adapters.kube_retry import RetryPolicy
from tests.kube_fake import FakeK8s, Fault, install_eviction, requests_to


class KubeHarness:
    def __init__(self, objects: dict | None = None, version: str = "v1.29.3"):
        self.objects = objects or {}
        self.version = version
        self.url = ""
        self.port = 0
        self.restarts = 0
        self.km: FakeK8s | None = None
        self._server = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    async def _main(self):
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with FakeK8s() as km:
            km.resources.load_bundled()
            km.faults = []
            km.log = []
            km.control = self._control
            install_eviction(km)
            km["get /version"] << (lambda request: {"major": "1", "gitVersion": self.version})
            for key, obj in self.objects.items():
                km.objects[key] = obj
            self.km = km
            await self._serve()
            self.url = f"http://127.0.0.1:{self.port}"
            self._ready.set()
            await self._stop.wait()
            if self._server is not None:
                await self._server.close()

    async def _serve(self):
        # aiohttp's server straight, not kmock.Server: that one also patches aiohttp's resolver for its own
        # client, process-wide, and harnesses in parallel threads would undo each other's patches
        self._server = RawTestServer(self.km, host="127.0.0.1", port=self.port or None)
        await self._server.start_server()
        self.port = self._server.port

    async def _restart(self, down_s: float):
        server, self._server = self._server, None
        await server.close()
        await asyncio.sleep(down_s)
        await self._serve()
        self.restarts += 1

    def _control(self, request):
        if request.url.path == "/midair-harness/restart":
            down = float(request.params.get("down", "1"))
            self._loop.call_later(0.05, lambda: asyncio.ensure_future(self._restart(down)))
            return kmock.Response(status=200, headers={"Content-Type": "application/json"},
                                  payload=json.dumps({"restarting": down}).encode())
        return kmock.Response(status=404, payload=b"unknown harness command")

    def __enter__(self):
        self._thread.start()
        if not self._ready.wait(15):
            raise RuntimeError("the fake Kubernetes API did not start")
        return self

    def __exit__(self, *exc):
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    # -- scripting ------------------------------------------------------------------------
    def call(self, fn, *args):
        """Run ``fn(*args)`` in the server's loop (the emulator is not thread-safe)."""
        async def run():
            return fn(*args)
        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(10)

    def fail(self, match=None, **fault) -> Fault:
        """Script a fault (see ``Fault``); ``match`` defaults to every request midair makes."""
        added = Fault(match or requests_to(), **fault)
        self.call(self.km.faults.append, added)
        return added

    def storm(self, seconds: float, status: int = 429, retry_after: str | None = "1", match=None) -> Fault:
        """Every matching request answered with ``status`` for ``seconds`` from now."""
        return self.fail(match, status=status, retry_after=retry_after, until=time.monotonic() + seconds)

    def restart(self, down_s: float = 1.0) -> None:
        """Stop serving (connections are refused) for ``down_s`` seconds, then serve again on the same port."""
        asyncio.run_coroutine_threadsafe(self._restart(down_s), self._loop).result(down_s + 15)

    # -- reading --------------------------------------------------------------------------
    def get(self, resource: str, namespace: str | None, name: str) -> dict | None:
        def read():
            key = (kmock.resource(resource), namespace, name)
            return None if key not in self.km.objects or self.km.objects[key].deleted else self.km.objects[key].raw
        return self.call(read)

    def patch(self, resource: str, namespace: str | None, name: str, changes: dict) -> None:
        self.call(lambda: self.km.objects[kmock.resource(resource), namespace, name].patch(changes))

    def requests(self, *criteria):
        """Every request so far that meets all ``criteria`` (a kmock method, action or resource, a set of
        them: any one, or a predicate such as ``requests_to(...)``)."""
        def meets(request, criterion) -> bool:
            if isinstance(criterion, (set, frozenset, tuple, list)):
                return any(meets(request, c) for c in criterion)
            if isinstance(criterion, types.FunctionType):
                return criterion(request)
            if isinstance(criterion, kmock.method):
                return request.method == criterion
            if isinstance(criterion, kmock.action):
                return request.action == criterion
            return request.resource == criterion
        return self.call(lambda: [r for r in self.km.log if all(meets(r, c) for c in criteria)])

    def midair_requests(self):
        """The requests midair sent (by its User-Agent), not the test hooks'."""
        return [r for r in self.requests() if r.headers.get("User-Agent", "").startswith("midair/")]

    def evictions(self) -> list[tuple[str, int]]:
        return self.call(lambda: list(self.km.evictions))

    def kubeconfig(self, path) -> str:
        path.write_text(f"""apiVersion: v1
kind: Config
current-context: fake
clusters: [{{name: fake, cluster: {{server: "{self.url}"}}}}]
users: [{{name: nobody, user: {{token: test}}}}]
contexts: [{{name: fake, context: {{cluster: fake, user: nobody}}}}]
""")
        return str(path)


# retries for tests: quick, and giving up after seconds rather than the default ten minutes
FAST_RETRY = RetryPolicy(initial_s=0.02, max_s=0.1, give_up_after_s=5.0)
