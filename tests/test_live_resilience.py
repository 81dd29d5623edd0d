"""The client layer rides through what real clusters do (429 storms, 5xx, slow answers, an API that
restarts) and gives up with one clear error when it must; run against the fault-injecting harness
with a fake clock, so every wait is an exact number."""

import asyncio
import ssl
from email.utils import format_datetime
from datetime import datetime, timedelta, timezone

import httpx2 as httpx
import pytest

from sim.adapters.kube_client import Kube, KubeRefused, KubeUnreachable
from sim.adapters.kube_retry import RetryPolicy, backoff_s, parse_retry_after, tls_failure
from sim.adapters.kubeconfig import load_config
from tests.kube_fake import requests_to
from tests.kube_harness import KubeHarness
from tests.kube_objects import objects_from_world
from sim.scenario import load_scenario
from sim.simulate import world_for


class Halfway:
    """An rng whose every draw is the middle of its range: the jitter is exactly a quarter of the ceiling."""

    def uniform(self, a, b):
        return (a + b) / 2


@pytest.mark.parametrize("attempt, retry_after, delay", [
    (1, None, 0.75), (2, None, 1.5), (3, None, 3.0), (4, None, 6.0), (5, None, 7.5), (9, None, 7.5),
    (1, 4.0, 4.0), (4, 2.0, 6.0),
], ids=["first", "doubles", "again", "cap-not-yet", "capped", "stays-capped", "retry-after-floor",
        "retry-after-shorter-than-backoff"])
def test_backoff_is_capped_exponential_with_equal_jitter(attempt, retry_after, delay):
    # ceiling = min(10, 1 * 2^(attempt-1)); delay = ceiling/2 + jitter in [0, ceiling/2]; Retry-After is a floor
    assert backoff_s(RetryPolicy(initial_s=1.0, max_s=10.0), attempt, Halfway(), retry_after) == delay


def test_the_jitter_is_the_seeded_generator_s():
    import random

    draws = [[backoff_s(RetryPolicy(), n, rng) for n in range(1, 8)] for rng in (random.Random(3), random.Random(3))]
    assert draws[0] == draws[1]
    assert all(min(30.0, 2 ** (n - 1)) / 2 <= d <= min(30.0, 2 ** (n - 1)) for n, d in enumerate(draws[0], 1))


NOW = datetime(2026, 12, 1, 12, 0, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("header, seconds", [
    ("3", 3.0), ("0", 0.0), (format_datetime(NOW + timedelta(seconds=90), usegmt=True), 90.0),
    (format_datetime(NOW - timedelta(seconds=5), usegmt=True), 0.0), ("soon", None), ("", None), (None, None),
], ids=["seconds", "zero", "http-date", "http-date-past", "junk", "empty", "absent"])
def test_retry_after_is_seconds_or_an_http_date(header, seconds):
    assert parse_retry_after(header, NOW.timestamp()) == seconds


def test_a_tls_failure_behind_a_connection_error_is_found():
    cause = ssl.SSLCertVerificationError(1, "certificate verify failed: certificate has expired")
    try:
        try:
            raise cause
        except ssl.SSLError as exc:
            raise httpx.ConnectError("handshake failed") from exc
    except httpx.ConnectError as wrapped:
        assert tls_failure(wrapped) is cause
    assert tls_failure(httpx.ConnectError("All connection attempts failed")) is None


class FakeTime:
    """A clock that moves only when the client sleeps: every wait and duration is exact."""

    def __init__(self):
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self):
        return self.now

    async def sleep(self, seconds):
        self.sleeps.append(round(seconds, 6))
        self.now += seconds
        await asyncio.sleep(0)


@pytest.fixture
def api(tmp_path):
    world = world_for(load_scenario("scenarios/seed-example.yaml"), seed=1)
    with KubeHarness(objects_from_world(world), version="v1.14.10") as server:
        server.config = load_config(server.kubeconfig(tmp_path / "kubeconfig"), None)
        yield server


POLICY = RetryPolicy(initial_s=1.0, max_s=4.0, give_up_after_s=20.0)


def run(api, work, *, policy=POLICY, reached=True, timeout=5.0, **kw):
    """``work(kube)`` on a client with the fake clock; returns (its result or exception, clock, waits)."""
    time_ = FakeTime()
    waits: list[tuple[str, float]] = []

    async def main():
        kube = Kube(api.config, timeout=timeout, retry=policy, rng=Halfway(), sleep=time_.sleep, clock=time_.clock,
                    on_wait=lambda kind, text, seconds: waits.append((kind, round(seconds, 6))), **kw)
        kube.reached = reached
        try:
            return await work(kube)
        except Exception as exc:  # noqa: BLE001 - the test looks at it
            return exc
        finally:
            await kube.close()

    return asyncio.run(main()), time_, waits


NODES = requests_to("GET", "/api/v1/nodes")


def test_a_429_storm_is_waited_out_never_sooner_than_retry_after(api):
    api.fail(NODES, status=429, retry_after="2", times=3)
    nodes, time_, waits = run(api, lambda kube: kube._list("/api/v1/nodes", "nodes"))
    assert sorted(n["metadata"]["name"] for n in nodes) == ["workers-1", "workers-2"]
    assert time_.sleeps == [2.0, 2.0, 3.0]  # Retry-After 2 beats 0.75 and 1.5; backoff 3.0 beats it
    assert waits == [("waiting", 0.0), ("waited", 7.0)]
    assert len(api.requests(requests_to("GET", "/api/v1/nodes"))) == 4


@pytest.mark.parametrize("status", [500, 502, 503, 504], ids=["500", "502", "503", "504"])
def test_a_server_error_is_retried(api, status):
    api.fail(requests_to("GET", "/api/v1/pods"), status=status, retry_after=None, times=2)
    pods, time_, _ = run(api, lambda kube: kube._list("/api/v1/pods", "pods"))
    assert len(pods) == 13  # the workloads' and the control plane's
    assert time_.sleeps == [0.75, 1.5]


def test_a_request_that_times_out_is_sent_again(api):
    api.fail(NODES, delay_s=1.0, times=1)  # answers after a second; the client waits 0.2 s
    nodes, time_, _ = run(api, lambda kube: kube._list("/api/v1/nodes", "nodes"), timeout=0.2)
    assert len(nodes) == 2
    assert time_.sleeps == [0.75]


def test_an_api_that_restarts_is_waited_for_and_the_wait_reported(api):
    async def across_a_restart(kube):
        await kube._list("/api/v1/nodes", "nodes")  # reached
        await asyncio.to_thread(api.call, lambda: asyncio.ensure_future(api._restart(0.5)))
        await asyncio.sleep(0.2)
        return await kube._list("/api/v1/nodes", "nodes")

    time_ = FakeTime()
    waits = []

    async def main():
        kube = Kube(api.config, retry=RetryPolicy(0.2, 0.2, 20.0), rng=Halfway(), clock=time_.clock,
                    on_wait=lambda kind, text, seconds: waits.append((kind, text)))
        try:
            return await across_a_restart(kube)
        finally:
            await kube.close()

    nodes = asyncio.run(main())
    assert len(nodes) == 2 and api.restarts == 1
    assert [kind for kind, _ in waits] == ["waiting", "waited"]
    assert waits[0][1] == f"the API at {api.url} did not answer (ConnectError: All connection attempts failed); retrying"


def test_an_outage_past_the_timeout_is_one_clear_error(api):
    api.fail(NODES, status=503, retry_after=None)
    error, time_, waits = run(api, lambda kube: kube._list("/api/v1/nodes", "nodes"),
                              policy=RetryPolicy(1.0, 4.0, give_up_after_s=10.0))
    assert isinstance(error, KubeRefused)
    assert str(error) == ("the API refused to list nodes (HTTP 503: ServiceUnavailable: scripted by the test harness) "
                          "after 6 attempt(s) over 10s")
    assert time_.sleeps == [0.75, 1.5, 3.0, 3.0, 1.75]  # the last wait ends at the timeout
    assert waits == [("waiting", 0.0)]


def test_a_server_that_never_answered_fails_after_three_attempts(api, tmp_path):
    api.config = load_config(str(_gone_kubeconfig(tmp_path)), None)
    error, time_, waits = run(api, lambda kube: kube._list("/api/v1/nodes", "nodes"), reached=False)
    assert isinstance(error, KubeUnreachable)
    assert str(error) == ("cannot reach the Kubernetes API at http://127.0.0.1:9 to list nodes: ConnectError: "
                          "All connection attempts failed")
    assert (time_.sleeps, waits) == ([0.75, 1.5], [])


def test_an_unreachable_api_after_it_answered_gives_up_at_the_outage_timeout(api, tmp_path):
    api.config = load_config(str(_gone_kubeconfig(tmp_path)), None)
    error, time_, _ = run(api, lambda kube: kube._list("/api/v1/nodes", "nodes"), policy=RetryPolicy(1.0, 4.0, 5.0))
    assert str(error) == ("the Kubernetes API at http://127.0.0.1:9 did not answer for 5s (live.apiOutageTimeout 5s) "
                          "to list nodes: ConnectError: All connection attempts failed")
    assert time_.sleeps == [0.75, 1.5, 2.75]


def _gone_kubeconfig(tmp_path):
    path = tmp_path / "gone"
    path.write_text("""apiVersion: v1
kind: Config
current-context: gone
clusters: [{name: gone, cluster: {server: "http://127.0.0.1:9"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: gone, context: {cluster: gone, user: u}}]
""")
    return path


def test_a_forbidden_request_is_not_retried(api):
    api.fail(NODES, status=403, retry_after=None, times=1)
    error, time_, _ = run(api, lambda kube: kube._list("/api/v1/nodes", "nodes"))
    assert str(error) == ("the API refused to list nodes (HTTP 403: Forbidden: scripted by the test harness); grant "
                          "midair the ClusterRole in deploy/rbac.yaml (docs/live.md)")
    assert time_.sleeps == []


def test_an_optional_list_that_is_forbidden_or_failing_stays_optional(api):
    api.fail(requests_to("GET", "/apis/apiregistration.k8s.io"), status=403, retry_after=None)
    api.fail(requests_to("GET", "/api/v1/persistentvolumeclaims"), status=500, retry_after=None)
    lines: list[str] = []
    objects, time_, _ = run(api, lambda kube: kube.list_all(), log=lines.append)
    assert (objects["APIService"], objects["PersistentVolumeClaim"], len(objects["Node"])) == ([], [], 2)
    assert lines == [
        "left out apiservices: the API refused to list apiservices (HTTP 403: Forbidden: scripted by the test harness); "
        "grant midair the ClusterRole in deploy/rbac.yaml (docs/live.md)",
        "left out persistentvolumeclaims: the API refused to list persistentvolumeclaims (HTTP 500: InternalError: "
        "scripted by the test harness) after 3 attempt(s) over 2.2s"]
    assert time_.sleeps == [0.75, 1.5]


def test_a_budget_s_429_on_an_eviction_is_the_drain_s_to_retry(api):
    api.patch("policy/v1/poddisruptionbudgets", "default", "web-pdb", {"status": {"disruptionsAllowed": 0,
                                                                                  "desiredHealthy": 2}})
    pod = next(k[2] for k in api.objects if k[0] == "v1/pods" and k[2].startswith("web-"))
    answer, time_, _ = run(api, lambda kube: kube.evict("default", pod))
    # the Status's message and its DisruptionBudget cause (pkg/registry/core/pod/storage/eviction.go), and the
    # causes' types for the drain's reading of it (models.drain.eviction_outcome)
    assert answer == (429, "Cannot evict pod as it would violate the pod's disruption budget. (The disruption "
                           "budget web-pdb needs 2 healthy pods and has 2 currently)", ("DisruptionBudget",))
    assert time_.sleeps == []


def test_every_request_says_who_sends_it_and_whom_it_impersonates(api):
    headers = [("Impersonate-User", "jane"), ("Impersonate-Group", "ops"), ("Impersonate-Group", "oncall")]
    run(api, lambda kube: kube.version(), headers=headers)
    (request,) = [r for r in api.requests() if r.url.path == "/version"]
    raw = request._raw_request.headers
    assert raw["User-Agent"].startswith("midair/")
    assert (raw.getall("Impersonate-User"), raw.getall("Impersonate-Group")) == (["jane"], ["ops", "oncall"])


def test_an_add_on_image_is_patched_by_container_name(api):
    sidecar = {"name": "log-shipper", "image": "example/shipper:2.1", "args": ["--tail"]}
    proxy = {"name": "kube-proxy", "image": "registry.k8s.io/kube-proxy:v1.14.10", "command": ["/usr/local/bin/kube-proxy"]}
    api.patch("apps/v1/daemonsets", "kube-system", "kube-proxy", {"spec": {"template": {"spec": {
        "containers": [sidecar, proxy]}}}})
    image, _, _ = run(api, lambda kube: kube.set_image_tag("DaemonSet", "kube-system", "kube-proxy", "kube-proxy",
                                                           "v1.15.12"))
    assert image == "registry.k8s.io/kube-proxy:v1.15.12"
    containers = api.get("apps/v1/daemonsets", "kube-system", "kube-proxy")["spec"]["template"]["spec"]["containers"]
    assert containers == [sidecar, {**proxy, "image": "registry.k8s.io/kube-proxy:v1.15.12"}]
    (patch,) = api.requests(requests_to("PATCH"))
    assert patch.headers["Content-Type"] == "application/strategic-merge-patch+json"
    assert patch.data == {"spec": {"template": {"spec": {"containers": [{"name": "kube-proxy",
                                                                         "image": "registry.k8s.io/kube-proxy:v1.15.12"}]}}}}


@pytest.mark.parametrize("conflicts, outcome", [(2, "tainted"), (5, 409)], ids=["read-again-and-retry", "gives-up-after-5"])
def test_a_taint_whose_node_changed_meanwhile_is_read_again_and_retried(api, conflicts, outcome):
    # a merge patch of spec.taints carries the resourceVersion it read: someone else's change answers 409, and the
    # node is read again and patched again, as client-go's RetryOnConflict (5 tries)
    api.fail(requests_to("PATCH", "/api/v1/nodes/workers-1"), status=409, times=conflicts)
    taint = {"key": "midair.io/old-node", "effect": "NoSchedule"}
    result, _, _ = run(api, lambda kube: kube.set_taint("workers-1", "midair.io/old-node", taint))
    patches = api.requests(requests_to("PATCH", "/api/v1/nodes/workers-1"))
    if outcome == "tainted":
        assert result is None and len(patches) == conflicts + 1
        assert api.get("v1/nodes", None, "workers-1")["spec"]["taints"] == [taint]
    else:
        assert (isinstance(result, KubeRefused), result.code, len(patches)) == (True, 409, 5)
