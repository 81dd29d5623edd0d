"""Talking to a Kubernetes API through lightkube's async connection (the ``live`` extra).

Finding the connection settings is ``sim.adapters.kubeconfig``'s job. This layer rides
through what real clusters do (``sim.adapters.kube_retry``): reads and idempotent writes
are retried with capped exponential backoff and jitter on 429 (never sooner than its
``Retry-After``), 5xx, timeouts and connection errors; once midair has reached the API, a
request keeps trying through an outage for up to ``RetryPolicy.give_up_after_s`` and
reports the wait (``on_wait``). The reconcile loop and the strategies never see a retry.
Every failure that remains becomes a ``KubeAccessError`` (exit 3) naming the verb and
resource, the file or the command, and what to do.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from importlib import metadata

from models.drain import with_cause
from sim.adapters.kube_retry import RetryPolicy, backoff_s, parse_retry_after, retry_status, tls_failure
from sim.errors import ClusterError, UsageError

try:
    import httpx2 as httpx
    from lightkube import ConfigError, KubeConfig
    from lightkube.config.client_adapter import AsyncClient as RawClient
    from lightkube.config.client_adapter import ConnectionParams
except ImportError:  # pragma: no cover - exercised only without the extra
    KubeConfig = None

PATHS = {"Node": "/api/v1/nodes", "Pod": "/api/v1/pods", "ReplicaSet": "/apis/apps/v1/replicasets",
         "Deployment": "/apis/apps/v1/deployments", "StatefulSet": "/apis/apps/v1/statefulsets",
         "DaemonSet": "/apis/apps/v1/daemonsets", "PodDisruptionBudget": "/apis/policy/v1/poddisruptionbudgets",
         "APIService": "/apis/apiregistration.k8s.io/v1/apiservices",
         "PersistentVolumeClaim": "/api/v1/persistentvolumeclaims", "PersistentVolume": "/api/v1/persistentvolumes",
         "StorageClass": "/apis/storage.k8s.io/v1/storageclasses",
         "VolumeAttachment": "/apis/storage.k8s.io/v1/volumeattachments",
         "PriorityClass": "/apis/scheduling.k8s.io/v1/priorityclasses", "Service": "/api/v1/services",
         "EndpointSlice": "/apis/discovery.k8s.io/v1/endpointslices",
         "ValidatingWebhookConfiguration": "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations",
         "MutatingWebhookConfiguration": "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations"}
PAGE = 500
# without them the view is coarser, not wrong (without claims and volumes, node-local volumes are found only
# through a StatefulSet's volumeClaimTemplates of a local storage class; without storage classes, claims are judged
# by their access modes; without PriorityClasses every pod has priority 0; without the webhook configurations and
# Services, no webhook is seen; without Services and EndpointSlices, no traffic)
OPTIONAL = ("ReplicaSet", "APIService", "PersistentVolumeClaim", "PersistentVolume", "StorageClass", "VolumeAttachment",
            "PriorityClass", "Service", "EndpointSlice", "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration")
OPTIONAL_ATTEMPTS = 3  # an optional list that keeps failing is left out, not waited for
FIRST_CONTACT_ATTEMPTS = 3  # before midair has reached the API once, an unreachable server is an error soon
RBAC_HINT = "grant midair the ClusterRole in deploy/rbac.yaml (docs/live.md)"


def user_agent() -> str:
    try:
        return f"midair/{metadata.version('midair')}"
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree without installing
        return "midair/dev"


class KubeAccessError(ClusterError):
    """The cluster cannot be reached, refused a request, or the kubeconfig's credentials failed (exit 3)."""


class KubeRefused(KubeAccessError):
    def __init__(self, code: int, verb: str, resource: str, message: str, tries: str = "",
                 status: dict | None = None):
        self.code = code
        self.detail = message
        self.status = status or {}  # the API's Status object, when it sent one
        text = f"the API refused to {verb} {resource} (HTTP {code}: {message}){tries}"
        if code == 403:
            text += f"; {RBAC_HINT}"
        elif code == 401:
            text += "; check the credentials of the kubeconfig context"
        super().__init__(text)


class KubeUnreachable(KubeAccessError):
    """The API did not answer for as long as midair waits (``live.apiOutageTimeout``)."""


def _status_message(response) -> str:
    try:
        body = response.json()
        return f"{body.get('reason', '')}: {body.get('message', '')}".strip(": ")
    except ValueError:
        return response.reason_phrase


def _status_body(response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def eviction_answer(status: dict) -> tuple[str, tuple[str, ...]]:
    """A refused eviction's Status as midair reports it (its message, then each cause's: the 429's
    ``The disruption budget web needs 2 healthy pods and has 2 currently``) and its causes' types."""
    causes = [c for c in ((status.get("details") or {}).get("causes") or []) if isinstance(c, dict)]
    message = str(status.get("message") or "")
    for c in causes:
        if c.get("message"):
            message = with_cause(message, str(c["message"]))
    return message, tuple(str(c.get("reason") or "") for c in causes)


def require_extra() -> None:
    if KubeConfig is None:
        raise UsageError("the live adapter needs the live extra: pip install 'midair[live]'")


def credentials_of(config) -> str:
    """How the kubeconfig's user authenticates, named for an error message."""
    user = config.user
    if user is None:
        return "the kubeconfig user"
    if user.exec is not None:
        return f"the exec plugin {user.exec.command!r} of the kubeconfig user"
    if user.token_file:
        return f"the token file {user.token_file} of the kubeconfig user"
    return "the kubeconfig user's credentials"


def _credential_error(config, exc: Exception) -> KubeAccessError:
    if isinstance(exc, FileNotFoundError):
        what = f"cannot run it: {exc.filename or exc} not found"
        hint = getattr(getattr(config.user, "exec", None), "installHint", None)
        if hint:
            what += f" ({' '.join(str(hint).split())})"
    elif isinstance(exc, (ValueError, KeyError)):
        what = "its output is not an ExecCredential with status.token"
    else:
        what = " ".join(str(exc).split())
    return KubeAccessError(f"{credentials_of(config)} failed: {what}")


CONFLICT_RETRIES = 5  # client-go's retry.DefaultRetry: 5 steps


class Kube:
    """The few API calls midair makes, as JSON over lightkube's configured connection (its
    authentication, TLS and proxies); ``dry_run`` sends every mutation with dryRun=All.

    ``headers``: sent with every request (impersonation). ``rng``, ``sleep`` and ``clock``
    are injectable so that the backoff is deterministic in tests. ``on_wait(kind, text,
    seconds)`` hears of outages: ``waiting`` when one begins, ``waited`` when the API answers again."""

    def __init__(self, config, dry_run: bool = False, timeout: float | None = 30.0, *,
                 retry: RetryPolicy = RetryPolicy(), rng: random.Random | None = None, headers=(),
                 on_wait=None, log=None, sleep=asyncio.sleep, clock=time.monotonic):
        require_extra()
        self.server = config.cluster.server
        self.config = config
        self.dry_run = dry_run
        self.retry = retry
        self.rng = rng or random.Random(0)
        self.headers = [("User-Agent", user_agent()), *headers]
        self.on_wait = on_wait or (lambda kind, text, seconds: None)
        self.log = log or (lambda text: None)
        self.sleep, self.clock = sleep, clock
        self.reached = False  # has the API answered once? Before that, an unreachable server fails fast
        self._outage: tuple[float, str] | None = None  # (since, cause) while requests keep failing
        try:
            self.raw = RawClient(config, ConnectionParams(timeout=httpx.Timeout(timeout)))
        except (OSError, ValueError) as exc:  # a certificate or key file lightkube could not load
            raise KubeAccessError(f"kubeconfig context {config.context_name!r}: cannot load its certificates "
                                  f"({' '.join(str(exc).split())})") from None

    async def close(self) -> None:
        await self.raw.aclose()

    # -- outages: one report per stretch of failures, whichever requests saw it ----------
    def _failing(self, cause: str) -> None:
        if self._outage is None and self.reached:  # before the first answer there is no outage, only an error
            self._outage = (self.clock(), cause)
            self.on_wait("waiting", f"the API at {self.server} did not answer ({cause}); retrying", 0.0)

    def _answered(self) -> None:
        self.reached = True
        if self._outage is not None:
            since, cause = self._outage
            self._outage = None
            seconds = self.clock() - since
            self.on_wait("waited", f"the API at {self.server} answered again after {seconds:.1f}s ({cause})", seconds)

    async def _request(self, method: str, path: str, verb: str, resource: str, *, params=None, body=None,
                       content_type: str = "application/json", ok=(200, 201, 202), not_retried=frozenset(),
                       attempts: int | None = None) -> tuple[int, dict]:
        params = dict(params or {})
        if self.dry_run and method != "GET":
            params["dryRun"] = "All"
        headers = list(self.headers) + ([("Content-Type", content_type)] if body is not None else [])
        content = json.dumps(body).encode() if body is not None else None
        first_failure, attempt = None, 0
        while True:
            attempt += 1
            retry_after, refused = None, None
            try:
                response = await self.raw.request(method, path, params=params or None, headers=headers, content=content)
            except httpx.TransportError as exc:
                tls = tls_failure(exc)
                if tls is not None:
                    raise KubeAccessError(f"TLS with {self.server} failed: {getattr(tls, 'verify_message', '') or tls}; "
                                          "check the kubeconfig's certificate-authority and client certificate") from None
                failure = f"{type(exc).__name__}: {exc}".rstrip(": ")
            except httpx.HTTPError as exc:
                raise KubeAccessError(f"{verb} {resource}: {exc}") from None
            except (ConfigError, OSError, ValueError, KeyError) as exc:  # the user's exec plugin or token file
                raise _credential_error(self.config, exc) from None
            else:
                code = response.status_code
                if code in ok:
                    self._answered()
                    try:
                        return code, response.json()
                    except ValueError:
                        return code, {}
                if not retry_status(code, not_retried):
                    self._answered()
                    raise KubeRefused(code, verb, resource, _status_message(response), status=_status_body(response))
                refused, failure = response, f"HTTP {code} {_status_message(response)}".strip()
                retry_after = parse_retry_after(response.headers.get("Retry-After"), time.time())
            now = self.clock()
            first_failure = now if first_failure is None else first_failure
            self._failing(failure)
            limit = attempts if attempts is not None else (None if self.reached else FIRST_CONTACT_ATTEMPTS)
            waited = now - first_failure
            if (limit is not None and attempt >= limit) or waited >= self.retry.give_up_after_s:
                raise self._gave_up(failure, verb, resource, attempt, waited, refused)
            delay = backoff_s(self.retry, attempt, self.rng, retry_after)
            await self.sleep(max(0.0, min(delay, first_failure + self.retry.give_up_after_s - now)))

    def _gave_up(self, failure: str, verb: str, resource: str, attempts: int, waited: float, response):
        tries = f" after {attempts} attempt(s) over {round(waited, 1):g}s"
        if response is not None:
            return KubeRefused(response.status_code, verb, resource, _status_message(response), tries,
                               _status_body(response))
        if not self.reached:
            return KubeUnreachable(f"cannot reach the Kubernetes API at {self.server} to {verb} {resource}: {failure}")
        return KubeUnreachable(f"the Kubernetes API at {self.server} did not answer for {round(waited, 1):g}s "
                               f"(live.apiOutageTimeout {self.retry.give_up_after_s:g}s) to {verb} {resource}: {failure}")

    async def _get_json(self, path: str, params: dict | None, verb: str, resource: str, **kw) -> dict:
        return (await self._request("GET", path, verb, resource, params=params, **kw))[1]

    async def version(self):
        from models.version import KubeVersion

        text = (await self._get_json("/version", None, "get", "/version")).get("gitVersion")
        try:
            return KubeVersion.parse(text) if text else None
        except ValueError:
            return None

    async def _list(self, path: str, resource: str, params: dict | None = None, **kw) -> list[dict]:
        items: list[dict] = []
        query = {"limit": PAGE, **(params or {})}
        while True:
            page = await self._get_json(path, query, "list", resource, **kw)
            items += page.get("items") or []
            token = (page.get("metadata") or {}).get("continue")
            if not token:
                return items
            query["continue"] = token

    async def list_all(self) -> dict[str, list[dict]]:
        out: dict[str, list[dict]] = {}
        for kind, path in PATHS.items():
            resource = path.rsplit("/", 1)[-1]
            if kind not in OPTIONAL:
                out[kind] = await self._list(path, resource)
                continue
            try:
                out[kind] = await self._list(path, resource, attempts=OPTIONAL_ATTEMPTS)
            except KubeAccessError as exc:  # forbidden, not served, or failing: the view is coarser, not refused
                self.log(f"left out {resource}: {exc}")
                out[kind] = []
        return out

    async def list_optional(self, path: str, resource: str, params: dict | None = None) -> list[dict] | None:
        """Objects a view can do without (None, logged, when they cannot be listed)."""
        try:
            return await self._list(path, resource, params, attempts=OPTIONAL_ATTEMPTS)
        except KubeAccessError as exc:
            self.log(f"left out {resource}: {exc}")
            return None

    async def node(self, name: str) -> dict:
        return await self._get_json(f"/api/v1/nodes/{name}", None, "get", f"nodes/{name}")

    async def pods_on(self, node: str) -> list[dict]:
        return await self._list(PATHS["Pod"], f"pods on {node}", {"fieldSelector": f"spec.nodeName={node}"})

    async def set_unschedulable(self, node: str, value: bool) -> None:
        await self._request("PATCH", f"/api/v1/nodes/{node}", "patch", f"nodes/{node}",
                            body={"spec": {"unschedulable": True if value else None}},
                            content_type="application/merge-patch+json")

    async def set_taint(self, node: str, key: str, taint: dict | None) -> None:
        """Put ``taint`` on the node in place of any with the same key (None: just remove that key's).

        A merge patch replaces the whole list, so the node's other taints are read first and the patch
        carries the resourceVersion they were read at: a concurrent change (the node lifecycle controller
        tainting it, the kubelet's status) makes it fail with 409, and it is read and tried again, as
        client-go's RetryOnConflict does (5 tries).
        """
        for attempt in range(CONFLICT_RETRIES):
            obj = await self.node(node)
            meta = obj.get("metadata") or {}
            kept = [t for t in (obj.get("spec") or {}).get("taints") or [] if t.get("key") != key]
            body = {"metadata": {"resourceVersion": meta.get("resourceVersion")} if meta.get("resourceVersion") else {},
                    "spec": {"taints": kept + ([taint] if taint else [])}}
            try:
                await self._request("PATCH", f"/api/v1/nodes/{node}", "patch", f"nodes/{node}", body=body,
                                    content_type="application/merge-patch+json")
                return
            except KubeRefused as exc:
                if exc.code != 409 or attempt == CONFLICT_RETRIES - 1:
                    raise

    async def set_annotation(self, node: str, key: str, value: str | None) -> None:
        """``kubectl annotate node``: a merge patch of one annotation (null removes it)."""
        await self._request("PATCH", f"/api/v1/nodes/{node}", "patch", f"nodes/{node}",
                            body={"metadata": {"annotations": {key: value}}}, content_type="application/merge-patch+json")

    async def evict(self, namespace: str, name: str) -> tuple[int, str, tuple[str, ...]]:
        """(HTTP status, the API's message with its causes, the causes' types) of an eviction through the
        policy/v1 Eviction subresource. Every refusal is the drain's to judge (``models.drain.eviction_outcome``:
        kubectl asks again only after a 429); a 429 (the budget says no) and a 500 (more than one budget) are
        not retried here; asking again after a lost answer is safe: a pod already evicted answers 404."""
        body = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": name, "namespace": namespace}}
        path = f"/api/v1/namespaces/{namespace}/pods/{name}/eviction"
        try:
            code, _ = await self._request("POST", path, "create", f"pods/{name}/eviction in {namespace}", body=body,
                                          not_retried=frozenset({429, 500}))
            return code, "", ()
        except KubeRefused as exc:
            message, causes = eviction_answer(exc.status)
            return exc.code, message or exc.detail, causes

    async def delete_pod(self, namespace: str, name: str) -> None:
        await self._request("DELETE", f"/api/v1/namespaces/{namespace}/pods/{name}", "delete",
                            f"pods/{name} in {namespace}", ok=(200, 202, 404))

    async def delete_node(self, name: str) -> None:
        await self._request("DELETE", f"/api/v1/nodes/{name}", "delete", f"nodes/{name}", ok=(200, 202, 404))

    async def set_image_tag(self, kind: str, namespace: str, name: str, container: str, tag: str) -> str:
        """Give the container named ``container`` the image tag ``tag`` by a strategic merge patch
        (containers merge by name: the other containers and this one's other fields stay); returns
        the new image."""
        from sim.adapters.kube_images import container_named

        path = f"/apis/apps/v1/namespaces/{namespace}/{kind.lower()}s/{name}"
        resource = f"{kind.lower()}s/{name}"
        obj = await self._get_json(path, None, "get", resource)
        containers = ((obj.get("spec") or {}).get("template") or {}).get("spec", {}).get("containers") or []
        found = container_named(containers, container)
        if found is None:
            raise KubeAccessError(f"{resource} in {namespace} has no containers to upgrade")
        base = (found.get("image") or "").split("@")[0]
        repo = base.rsplit(":", 1)[0] if ":" in base.rsplit("/", 1)[-1] else base
        new = f"{repo}:{tag}"
        patch = {"spec": {"template": {"spec": {"containers": [{"name": found.get("name"), "image": new}]}}}}
        await self._request("PATCH", path, "patch", resource, body=patch,
                            content_type="application/strategic-merge-patch+json")
        return new
