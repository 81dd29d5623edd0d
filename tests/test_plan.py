from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.plan import ADDONS, CONTROL_PLANE, WORKERS, path_for_state, phases_of, resolve_batch, version_path
from models.skew import Versioned, check_state, check_transition, check_versions
from models.state import APISERVER, CONTROLLER_MANAGER, KUBELET, SCHEDULER, ControlPlane
from models.version import KubeVersion
from models.version import parse_version as V
from sim.scenario import load_scenario


def steps(path):
    return [(s.component, str(s.version)) for s in path.steps]


@pytest.mark.parametrize("start, target, kubelets, expected", [
    ("1.14", "1.16", None, [("control-plane", "1.15"), ("control-plane", "1.16"), ("workers", "1.16")]),
    ("1.24", "1.29", ["1.24"], [("control-plane", "1.25"), ("control-plane", "1.26"), ("workers", "1.26"),
                                ("control-plane", "1.27"), ("control-plane", "1.28"), ("control-plane", "1.29"),
                                ("workers", "1.29")]),
    ("1.28.3", "1.31.2", None, [("control-plane", "1.29"), ("control-plane", "1.30"), ("control-plane", "1.31.2"),
                                ("workers", "1.31.2")]),
    ("1.29.1", "1.29.4", None, [("control-plane", "1.29.4"), ("workers", "1.29.4")]),
    ("1.29.4", "1.29.4", None, []),
    ("1.29.4", "1.29.4", ["1.28.2"], [("workers", "1.29.4")]),
    ("1.25", "1.27", ["1.21"], [("workers", "1.25"), ("control-plane", "1.26"), ("control-plane", "1.27"), ("workers", "1.27")]),
    ("1.27", "1.30", ["1.27", "1.25"], [("control-plane", "1.28"), ("workers", "1.28"), ("control-plane", "1.29"),
                                        ("control-plane", "1.30"), ("workers", "1.30")]),
], ids=["seed-1.14-to-1.16", "1.24-to-1.29-two-rolls", "three-hops-one-roll", "patch-only", "nothing-to-do",
        "workers-only", "too-old-kubelets-roll-first", "mixed-kubelets"])
def test_version_path(start, target, kubelets, expected):
    path = version_path(V(start), V(target), [V(k) for k in kubelets] if kubelets else None)
    assert steps(path) == expected


@pytest.mark.parametrize("start, target, kubelets, message", [
    ("1.29", "1.28", None, "target 1.28 is older than the control plane 1.29; midair plans upgrades, not downgrades"),
    ("1.29", "1.31", ["1.30"], "kubelet 1.30 is newer than the control plane 1.29"),
], ids=["downgrade", "kubelet-newer"])
def test_version_path_errors(start, target, kubelets, message):
    with pytest.raises(ValueError) as err:
        version_path(V(start), V(target), [V(k) for k in kubelets] if kubelets else None)
    assert str(err.value).startswith(message)


def test_phases_put_addons_after_every_control_plane_hop():
    path = version_path(V("1.14"), V("1.16"))
    assert [(p.kind, str(p.version)) for p in phases_of(path)] == [
        (CONTROL_PLANE, "1.15"), (ADDONS, "1.15"), (CONTROL_PLANE, "1.16"), (ADDONS, "1.16"), (WORKERS, "1.16")]
    assert [(p.kind, str(p.version)) for p in phases_of(version_path(V("1.29"), V("1.29"), [V("1.28")]))] == [
        (ADDONS, "1.29"), (WORKERS, "1.29")]


@pytest.mark.parametrize("surge, unavailable, total, expected", [
    (1, 0, 6, (1, 0)),
    (0, 1, 6, (0, 1)),
    ("25%", "25%", 10, (3, 2)),
    ("10%", 0, 5, (1, 0)),
    (0, "10%", 5, (0, 1)),        # rounds down to 0, both 0: unavailable becomes 1
    ("0%", "10%", 5, (0, 1)),
    ("33%", 0, 3, (1, 0)),
    (None, None, 3, None),
    (0, 0, 3, None),
    ("0%", "0%", 3, None),
], ids=["capi-default", "inplace-default", "percents", "surge-rounds-up", "unavailable-rounds-down-to-1",
        "zero-percent-surge", "aks-33pct", "both-missing", "both-zero", "both-zero-percent"])
def test_resolve_batch(surge, unavailable, total, expected):
    if expected is None:
        with pytest.raises(ValueError, match="maxSurge and maxUnavailable cannot both be 0"):
            resolve_batch(surge, unavailable, total)
    else:
        b = resolve_batch(surge, unavailable, total)
        assert (b.surge, b.unavailable) == expected


def _items(cp, kubelets):
    items = [Versioned(c, c, cp) for c in (APISERVER, CONTROLLER_MANAGER, SCHEDULER)]
    return items + [Versioned(KUBELET, f"k{i}", k, f"k{i}") for i, k in enumerate(sorted(kubelets))]


def _mid_hop(cp, hop, kubelets):
    items = [Versioned(APISERVER, "moved", hop), Versioned(APISERVER, "staying", cp)]
    items += [Versioned(c, c, cp) for c in (CONTROLLER_MANAGER, SCHEDULER)]
    return items + [Versioned(KUBELET, f"k{i}", k, f"k{i}") for i, k in enumerate(sorted(kubelets))]


def test_a_plan_from_mixed_apiservers_rolls_kubelets_too_old_for_the_newest_first():
    # apiservers at 1.31.0 and 1.30.5, kubelets at 1.27.3: out of policy already (4 behind the newest); the plan
    # starts from the oldest apiserver and rolls the workers to it before the hop that finishes the control plane
    cluster = load_scenario("scenarios/seed-example.yaml").cluster
    versions = {APISERVER: ["1.31.0", "1.30.5"]}
    instances = tuple(replace(i, version=V(versions[i.component].pop(0) if i.component == APISERVER else "1.30.5"))
                      for i in cluster.control_plane.instances)
    state = replace(cluster, control_plane=ControlPlane(instances),
                    nodes=tuple(replace(n, kubelet=V("1.27.3"), kube_proxy=V("1.27.3")) for n in cluster.nodes))
    assert [v.rule for v in check_state(state)] == ["kubelet-too-old", "kube-proxy-too-old"]
    assert steps(path_for_state(state, V("1.31.0"))) == [("workers", "1.30.5"), ("control-plane", "1.31.0"),
                                                         ("workers", "1.31.0")]


def _greedy_rolls(cp, kubelets, target):
    """Reference: hop the control plane until the next hop would break skew, roll workers then."""
    rolls = 0
    while cp < target:
        nxt = target if cp.same_minor(target) or cp.add_minors(1).same_minor(target) else cp.add_minors(1)
        if check_versions(_items(nxt, kubelets)):
            kubelets, rolls = {cp}, rolls + 1
            continue
        cp = nxt
    return rolls + (1 if any(k != target for k in kubelets) else 0)


@st.composite
def upgrades(draw):
    start_minor = draw(st.integers(min_value=14, max_value=33))
    start = KubeVersion(1, start_minor, draw(st.integers(0, 12)))
    limit = 2 if start_minor - 2 < 25 else 3
    kubelets = draw(st.lists(st.integers(start_minor - limit, start_minor), min_size=1, max_size=4))
    kubelets = [KubeVersion(1, k, draw(st.integers(0, 12))) if k < start_minor else start for k in kubelets]
    kubelets = [k for k in kubelets if not check_versions(_items(start, {k}))] or [start]
    target = KubeVersion(1, draw(st.integers(start_minor, 35)), draw(st.integers(0, 12)))
    if target < start:
        target = start
    return start, kubelets, target


@given(upgrades())
def test_every_path_is_skew_safe_reaches_the_target_and_rolls_workers_least(case):
    start, kubelets, target = case
    path = version_path(start, target, kubelets)
    cp, ks = start, set(kubelets)
    for step in path.steps:
        before = _items(cp, ks)
        if step.component == CONTROL_PLANE:
            assert cp.minors_to(step.version) <= 1
            # part-way through the hop (one apiserver moved, the rest of the control plane not yet) the newest
            # apiserver already bounds how old the kubelets may be: the path's uniform check covers it
            assert check_versions(_mid_hop(cp, step.version, ks)) == [], (step, cp, ks)
            cp = step.version
        else:
            assert step.version == cp
            ks = {cp}
        after = _items(cp, ks)
        assert check_versions(after) == [], (step, cp, ks)
        assert check_transition(before, after) == []
    assert cp == target and ks == {target}
    assert path.worker_rolls == _greedy_rolls(start, set(kubelets), target)
