"""A Kubernetes API on loopback for the live adapter's tests: kmock's emulator, made a little
more like a real apiserver, served from its own thread, and filled from a simulated world.

FakeK8s adds to kmock.KubernetesEmulator: error bodies lightkube recognises, dryRun=All
honoured, field and label selectors on lists, the Eviction subresource (201, or 429
while the pod's budget allows no disruption; each eviction spends one), and a record
of every eviction's outcome.
"""

from __future__ import annotations

import asyncio
import json
import threading

import kmock

MUTATING = {kmock.method.POST, kmock.method.PATCH, kmock.method.PUT, kmock.method.DELETE}


def k8s_status(code: int, reason: str, message: str) -> kmock.Response:
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure" if code >= 400 else "Success",
            "code": code, "reason": reason, "message": message}
    return kmock.Response(status=code, headers={"Content-Type": "application/json"}, payload=json.dumps(body).encode())


def _selected(obj: dict, selector: str | None, labels: bool) -> bool:
    if not selector:
        return True
    for term in selector.split(","):
        key, _, value = term.replace("==", "=").partition("=")
        if labels:
            actual = (obj.get("metadata", {}).get("labels") or {}).get(key.strip())
        else:
            actual = obj
            for part in key.strip().split("."):
                actual = actual.get(part) if isinstance(actual, dict) else None
        if str(actual) != value.strip():
            return False
    return True


class FakeK8s(kmock.KubernetesEmulator):
    evictions: list

    async def _render_error(self, exc):
        resp = await super()._render_error(exc)
        resp.charset = None
        return resp

    async def _handle(self, request):
        if request.params.get("dryRun") == "All" and request.action in (kmock.action.UPDATE, kmock.action.DELETE):
            return await super(kmock.KubernetesEmulator, self)._handle(request)
        return await super()._handle(request)

    async def _serve_list(self, request):
        result = await super()._serve_list(request)
        result["items"] = [o for o in result["items"]
                           if _selected(o, request.params.get("fieldSelector"), False)
                           and _selected(o, request.params.get("labelSelector"), True)]
        return result


def install_eviction(km: FakeK8s) -> None:
    km.evictions = []
    pods = kmock.resource("v1/pods")
    pdbs = kmock.resource("policy/v1/poddisruptionbudgets")

    def evict(request):
        key = (pods, request.namespace, request.name)
        if key not in km.objects or km.objects[key].deleted:
            km.evictions.append((request.name, 404))
            return k8s_status(404, "NotFound", f'pods "{request.name}" not found')
        labels = km.objects[key].raw["metadata"].get("labels") or {}
        for (res, ns, name), pdb in list(km.objects.items()):
            if res != pdbs or ns != request.namespace or pdb.deleted:
                continue
            selector = pdb.raw["spec"].get("selector", {}).get("matchLabels", {})
            if selector and selector.items() <= labels.items():
                allowed = pdb.raw.get("status", {}).get("disruptionsAllowed", 0)
                if allowed <= 0:
                    km.evictions.append((request.name, 429))
                    return k8s_status(429, "TooManyRequests",
                                      "Cannot evict pod as it would violate the pod's disruption budget.")
                if request.params.get("dryRun") != "All":
                    pdb.patch({"status": {"disruptionsAllowed": allowed - 1}})
        if request.params.get("dryRun") != "All":
            km.objects[key].delete()
        km.evictions.append((request.name, 201))
        return kmock.Response(status=201, headers={"Content-Type": "application/json"},
                              payload=json.dumps({"kind": "Status", "apiVersion": "v1", "code": 201}).encode())

    km[kmock.method.POST, pods, kmock.subresource("eviction")] << evict


class KubeThread:
    """FakeK8s served on loopback from a thread with its own event loop."""

    def __init__(self, objects: dict | None = None, version: str = "v1.29.3"):
        self.objects = objects or {}
        self.version = version
        self.url = ""
        self.km: FakeK8s | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    async def _main(self):
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with FakeK8s() as km, kmock.Server(km, host="127.0.0.1") as server:
            km.resources.load_bundled()
            install_eviction(km)
            km["get /version"] << (lambda request: {"major": "1", "gitVersion": self.version})
            for key, obj in self.objects.items():
                km.objects[key] = obj
            self.km, self.url = km, str(server.url)
            self._ready.set()
            await self._stop.wait()

    def __enter__(self):
        self._thread.start()
        if not self._ready.wait(15):
            raise RuntimeError("the fake Kubernetes API did not start")
        return self

    def __exit__(self, *exc):
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    def call(self, fn, *args):
        """Run ``fn(*args)`` in the server's loop (the emulator is not thread-safe)."""
        async def run():
            return fn(*args)
        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(10)

    def get(self, resource: str, namespace: str | None, name: str) -> dict | None:
        def read():
            key = (kmock.resource(resource), namespace, name)
            return None if key not in self.km.objects or self.km.objects[key].deleted else self.km.objects[key].raw
        return self.call(read)

    def requests(self, *criteria):
        return self.call(lambda: list(self.km[criteria] if criteria else self.km))

    def kubeconfig(self, path) -> str:
        path.write_text(f"""apiVersion: v1
kind: Config
current-context: fake
clusters: [{{name: fake, cluster: {{server: "{self.url}"}}}}]
users: [{{name: nobody, user: {{token: test}}}}]
contexts: [{{name: fake, context: {{cluster: fake, user: nobody}}}}]
""")
        return str(path)
