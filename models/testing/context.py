"""What runs around a generated upgrade, valid by construction: services over a cluster's workloads,
cluster-autoscaler settings for its pools, maintenance windows, Karpenter budgets and pool orders
(the strategy knobs that are lists), in the scenario-file format where a scenario holds them."""

from __future__ import annotations

from hypothesis import strategies as st

from models.karpenter import REASONS
from models.state import Workload
from models.traffic import CLUSTER, LOCAL, Service

SERVICE_NAMES = ("front", "checkout-api", "search-api", "inside", "edge")
# windows that are open often enough for a rehearsal to get on, and one that waits for the weekend
WINDOWS = (("0 * * * *", "45m"), ("*/30 * * * *", "20m"), ("@daily", "20h"), ("0 8-17 * * mon-fri", "1h"),
           ("0 2 * * SAT", "6h"))
START_TIMES = ("2026-01-05T10:00:00Z", "2026-01-10T01:30:00Z", "2026-03-29T00:59:00Z")


@st.composite
def services(draw, workloads: tuple[Workload, ...], max_services: int = 2) -> tuple[Service, ...]:
    """Services over the workloads whose pods run (``Local`` only with a load balancer)."""
    backed = [w for w in workloads if w.phase == "Running" and (w.replicas > 0 or w.kind == "DaemonSet")]
    if not backed:
        return ()
    count = draw(st.integers(0, min(max_services, len(SERVICE_NAMES))))
    names = draw(st.lists(st.sampled_from(SERVICE_NAMES), min_size=count, max_size=count, unique=True))
    out = []
    for name in names:
        w = draw(st.sampled_from(backed))
        lb = draw(st.booleans())
        policy = draw(st.sampled_from((CLUSTER, LOCAL))) if lb else CLUSTER
        out.append(Service(name, w.key, float(draw(st.sampled_from((10, 50, 200)))), w.namespace, policy, lb))
    return tuple(sorted(out, key=lambda s: s.key))


def service_entries(found: tuple[Service, ...]) -> list[dict]:
    """``services`` as the scenario's ``services:`` block."""
    return [{"name": s.name, "namespace": s.namespace, "workload": s.workload.split("/", 1)[1],
             "requestsPerSecond": s.requests_per_second, "loadBalancer": s.load_balancer,
             "externalTrafficPolicy": s.external_traffic_policy} for s in found]


@st.composite
def autoscaler_blocks(draw, pools: list[tuple[str, int]]) -> dict:
    """An ``autoscaler:`` block for some of the pools, each kept at or above its size."""
    chosen = draw(st.lists(st.sampled_from([name for name, _ in pools]), min_size=1, max_size=len(pools), unique=True))
    sizes = dict(pools)
    return {"pools": [{"name": n, "minNodes": sizes[n], "maxNodes": sizes[n] + draw(st.integers(1, 3))}
                      for n in chosen],
            "scaleDownUnneededTime": draw(st.sampled_from(("2m", "10m"))),
            "scaleDownDelayAfterAdd": draw(st.sampled_from(("0s", "10m")))}


def windows() -> st.SearchStrategy[list[dict]]:
    return st.lists(st.sampled_from(WINDOWS).map(lambda w: {"schedule": w[0], "duration": w[1]}), max_size=2)


def budgets() -> st.SearchStrategy[list[dict]]:
    """Disruption budgets that let drift go on (a budget of 0 only for a while each day)."""
    always = st.fixed_dictionaries({"nodes": st.integers(1, 3) | st.sampled_from(("10%", "50%", "100%"))},
                                   optional={"reasons": st.lists(st.sampled_from(REASONS), min_size=1, max_size=3,
                                                                 unique=True)})
    for_a_while = st.fixed_dictionaries({"nodes": st.just(0), "schedule": st.sampled_from(("0 9 * * *", "@hourly")),
                                         "duration": st.sampled_from(("10m", "1h"))})
    return st.tuples(always, st.lists(for_a_while, max_size=1)).map(lambda t: [t[0], *t[1]])


def pool_orders(pools: tuple[str, ...]) -> st.SearchStrategy[list[str]]:
    if not pools:
        return st.just([])
    return st.permutations(list(pools)).flatmap(lambda order: st.integers(0, len(order)).map(lambda k: order[:k]))
