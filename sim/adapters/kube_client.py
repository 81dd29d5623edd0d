"""Talking to a Kubernetes API through lightkube's async connection (the ``live`` extra).

Finding the connection settings is ``sim.adapters.kubeconfig``'s job. Every API failure
becomes a ``KubeAccessError`` naming the verb and resource that was refused and what to
do about it.
"""

from __future__ import annotations

import json

from sim.errors import UsageError

try:
    import httpx2 as httpx
    from lightkube import ApiError, KubeConfig
    from lightkube.config.client_adapter import AsyncClient as RawClient
    from lightkube.config.client_adapter import ConnectionParams
except ImportError:  # pragma: no cover - exercised only without the extra
    KubeConfig = None

PATHS = {"Node": "/api/v1/nodes", "Pod": "/api/v1/pods", "ReplicaSet": "/apis/apps/v1/replicasets",
         "Deployment": "/apis/apps/v1/deployments", "StatefulSet": "/apis/apps/v1/statefulsets",
         "DaemonSet": "/apis/apps/v1/daemonsets", "PodDisruptionBudget": "/apis/policy/v1/poddisruptionbudgets",
         "APIService": "/apis/apiregistration.k8s.io/v1/apiservices",
         "PersistentVolumeClaim": "/api/v1/persistentvolumeclaims", "PersistentVolume": "/api/v1/persistentvolumes",
         "Service": "/api/v1/services", "EndpointSlice": "/apis/discovery.k8s.io/v1/endpointslices"}
PAGE = 500
# without them the view is coarser, not wrong (without claims and volumes, node-local volumes are found only
# through a StatefulSet's volumeClaimTemplates of a local storage class)
OPTIONAL = ("ReplicaSet", "APIService", "PersistentVolumeClaim", "PersistentVolume", "Service", "EndpointSlice")
RBAC_HINT = "grant midair the ClusterRole in deploy/rbac.yaml (docs/live.md)"


class KubeAccessError(UsageError):
    """The cluster cannot be reached or refused a request; the CLI prints it and exits 2."""


class KubeRefused(KubeAccessError):
    def __init__(self, code: int, verb: str, resource: str, message: str):
        self.code = code
        self.detail = message
        text = f"the API refused to {verb} {resource} (HTTP {code}: {message})"
        if code == 403:
            text += f"; {RBAC_HINT}"
        elif code == 401:
            text += "; check the credentials of the kubeconfig context"
        super().__init__(text)


def _status_message(response) -> str:
    try:
        body = response.json()
        return f"{body.get('reason', '')}: {body.get('message', '')}".strip(": ")
    except ValueError:
        return response.reason_phrase


def require_extra() -> None:
    if KubeConfig is None:
        raise KubeAccessError("the live adapter needs the live extra: pip install 'midair[live]'")


def explain(exc: Exception, verb: str, resource: str, server: str) -> KubeAccessError:
    if isinstance(exc, ApiError):
        return KubeRefused(exc.status.code, verb, resource, f"{exc.status.reason}: {exc.status.message}")
    if isinstance(exc, httpx.TransportError):
        return KubeAccessError(f"cannot reach the Kubernetes API at {server} to {verb} {resource}: "
                               f"{type(exc).__name__}: {exc}")
    if isinstance(exc, httpx.HTTPStatusError):
        return KubeRefused(exc.response.status_code, verb, resource, _status_message(exc.response))
    return KubeAccessError(f"{verb} {resource}: {exc}")


class Kube:
    """The few API calls midair makes, as JSON over lightkube's configured connection (its
    authentication, TLS and proxies); ``dry_run`` sends every mutation with dryRun=All."""

    def __init__(self, config, dry_run: bool = False, timeout: float = 15.0):
        require_extra()
        self.server = config.cluster.server
        self.dry_run = dry_run
        self.raw = RawClient(config, ConnectionParams(timeout=httpx.Timeout(timeout)))

    async def close(self) -> None:
        await self.raw.aclose()

    async def _request(self, method: str, path: str, verb: str, resource: str, *, params=None, body=None,
                       content_type: str = "application/json", ok=(200, 201, 202)) -> tuple[int, dict]:
        params = dict(params or {})
        if self.dry_run and method != "GET":
            params["dryRun"] = "All"
        headers = {"Content-Type": content_type} if body is not None else None
        try:
            response = await self.raw.request(method, path, params=params or None, headers=headers,
                                              content=json.dumps(body).encode() if body is not None else None)
        except httpx.HTTPError as exc:
            raise explain(exc, verb, resource, self.server) from None
        if response.status_code not in ok:
            raise KubeRefused(response.status_code, verb, resource, _status_message(response))
        try:
            return response.status_code, response.json()
        except ValueError:
            return response.status_code, {}

    async def _get_json(self, path: str, params: dict | None, verb: str, resource: str) -> dict:
        return (await self._request("GET", path, verb, resource, params=params))[1]

    async def version(self):
        from models.version import KubeVersion

        text = (await self._get_json("/version", None, "get", "/version")).get("gitVersion")
        try:
            return KubeVersion.parse(text) if text else None
        except ValueError:
            return None

    async def _list(self, path: str, resource: str, params: dict | None = None) -> list[dict]:
        items: list[dict] = []
        query = {"limit": PAGE, **(params or {})}
        while True:
            page = await self._get_json(path, query, "list", resource)
            items += page.get("items") or []
            token = (page.get("metadata") or {}).get("continue")
            if not token:
                return items
            query["continue"] = token

    async def list_all(self) -> dict[str, list[dict]]:
        out: dict[str, list[dict]] = {}
        for kind, path in PATHS.items():
            try:
                out[kind] = await self._list(path, path.rsplit("/", 1)[-1])
            except KubeRefused as exc:
                if kind in OPTIONAL and exc.code in (403, 404):
                    out[kind] = []
                    continue
                raise
        return out

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
        carries the resourceVersion they were read at: a concurrent change makes it fail (409), not vanish.
        """
        obj = await self.node(node)
        meta = obj.get("metadata") or {}
        kept = [t for t in (obj.get("spec") or {}).get("taints") or [] if t.get("key") != key]
        body = {"metadata": {"resourceVersion": meta.get("resourceVersion")} if meta.get("resourceVersion") else {},
                "spec": {"taints": kept + ([taint] if taint else [])}}
        await self._request("PATCH", f"/api/v1/nodes/{node}", "patch", f"nodes/{node}", body=body,
                            content_type="application/merge-patch+json")

    async def set_annotation(self, node: str, key: str, value: str | None) -> None:
        """``kubectl annotate node``: a merge patch of one annotation (null removes it)."""
        await self._request("PATCH", f"/api/v1/nodes/{node}", "patch", f"nodes/{node}",
                            body={"metadata": {"annotations": {key: value}}}, content_type="application/merge-patch+json")

    async def evict(self, namespace: str, name: str) -> tuple[int, str]:
        """(HTTP status, message) of an eviction through the policy/v1 Eviction subresource."""
        body = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": name, "namespace": namespace}}
        path = f"/api/v1/namespaces/{namespace}/pods/{name}/eviction"
        try:
            code, _ = await self._request("POST", path, "create", f"pods/{name}/eviction in {namespace}", body=body)
            return code, ""
        except KubeRefused as exc:
            if exc.code in (404, 429, 500):
                return exc.code, exc.detail
            raise

    async def delete_pod(self, namespace: str, name: str) -> None:
        await self._request("DELETE", f"/api/v1/namespaces/{namespace}/pods/{name}", "delete",
                            f"pods/{name} in {namespace}", ok=(200, 202, 404))

    async def delete_node(self, name: str) -> None:
        await self._request("DELETE", f"/api/v1/nodes/{name}", "delete", f"nodes/{name}", ok=(200, 202, 404))

    async def set_image_tag(self, kind: str, namespace: str, name: str, tag: str) -> str:
        """Replace the tag of the first container's image; returns the new image."""
        path = f"/apis/apps/v1/namespaces/{namespace}/{kind.lower()}s/{name}"
        obj = await self._get_json(path, None, "get", f"{kind.lower()}s/{name}")
        image = obj["spec"]["template"]["spec"]["containers"][0]["image"]
        base = image.split("@")[0]
        repo = base.rsplit(":", 1)[0] if ":" in base.rsplit("/", 1)[-1] else base
        new = f"{repo}:{tag}"
        patch = [{"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": new}]
        await self._request("PATCH", path, "patch", f"{kind.lower()}s/{name}", body=patch,
                            content_type="application/json-patch+json")
        return new
