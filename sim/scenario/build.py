"""Turn checked scenario data into a ``Scenario``: the cluster records and the run settings.

The field types were checked by the schema; here the rules that span fields are
checked (names that must exist or be unique, budgets against replicas, the target
against the cluster, strategy knobs against the strategy), each problem naming its line.
"""

from __future__ import annotations

import os
from dataclasses import replace
from typing import Any

from models.plan import resolve_batch
from models.state import NodePool
from models.drain import DrainOptions
from models.strategies.params import (
    BOOL,
    BUDGETS,
    CHOICE,
    DRAIN_OPTIONS,
    DURATION,
    INT,
    INT_OR_PERCENT,
    POOL_LIST,
    WINDOWS,
    Param,
)
from models.strategies.presets import PRESETS
from sim import registry
from sim.adapters.hooks import check_template
from sim.scenario.cluster import build_cluster, check_version_exists
from sim.scenario.context import apply_annotations, build_autoscaler, build_services
from sim.scenario.expect import build_expectations, build_objectives
from sim.scenario.faults import check_fault
from sim.scenario.knobs import Budgets, PoolList, Windows
from sim.scenario.model import Dist, FaultSpec, LiveSettings, Scenario, StrategySpec, Timing
from sim.scenario.schema import INVALID, Bool, Checker, Duration, Enum, Field, Int, IntOrPct, Obj, Spec, broken, suggest
from sim.scenario.source import Path, Source


class DrainOptionsSpec(Obj):
    """A strategy's ``drain:`` block: kubectl drain's options; what is not given keeps the platforms' default."""

    def check(self, value, path, ck):
        out = super().check(value, path, ck)
        if out is INVALID or broken(out):
            return INVALID
        d = DrainOptions()
        return DrainOptions(
            *(d_value if out[key] is None else out[key] for key, d_value in (
                ("ignoreDaemonSets", d.ignore_daemonsets), ("deleteEmptyDirData", d.delete_emptydir_data),
                ("force", d.force), ("disableEviction", d.disable_eviction),
                ("skipWaitForDeleteTimeout", d.skip_wait_for_delete_timeout_s),
                ("skipWaitWhenUnreachable", d.unreachable_skip_wait_s))))


DRAIN_OPTIONS_SPEC = DrainOptionsSpec(name="drain options", fields={
    "ignoreDaemonSets": Field(Bool(), None, "--ignore-daemonsets"),
    "deleteEmptyDirData": Field(Bool(), None, "--delete-emptydir-data"),
    "force": Field(Bool(), None, "--force: delete pods no controller owns"),
    "disableEviction": Field(Bool(), None, "--disable-eviction: delete instead of evicting, past every budget"),
    "skipWaitForDeleteTimeout": Field(Duration(), None, "--skip-wait-for-delete-timeout"),
    "skipWaitWhenUnreachable": Field(Duration(), None, "Cluster API's wait for pods deleting on an unreachable node"),
})


def _param_spec(p: Param) -> Spec:
    return {
        INT_OR_PERCENT: IntOrPct(of="the pool's nodes"),  # every percent knob is a share of a pool
        DURATION: Duration(),
        INT: Int(min=p.minimum),
        BOOL: Bool(),
        CHOICE: Enum(choices=p.choices),
        DRAIN_OPTIONS: DRAIN_OPTIONS_SPEC,
        POOL_LIST: PoolList(),
        WINDOWS: Windows(),
        BUDGETS: Budgets(),
    }[p.kind]


PROVENANCE = ("samples", "source")  # what a distribution was fitted to: kept in the file, not in the simulation


def _kinds(raw: dict) -> list[str]:
    return [k for k, v in raw.items() if v is not None and k not in PROVENANCE]


def _dist(raw: Any) -> Dist:
    if isinstance(raw, float | int):
        return Dist.constant(raw)
    (kind, value), = [(k, raw[k]) for k in _kinds(raw)]
    if kind == "constant":
        return Dist.constant(value)
    if kind in ("uniform", "triangular", "empirical"):
        return Dist(kind, tuple(float(x) for x in value))
    if kind == "lognormal":
        return Dist(kind, (value["median"], value["p95"]))
    return Dist(kind, (value["mean"],))


def check_dist(raw: Any, path: Path, ck: Checker) -> Dist | None:
    if raw is None or broken(raw):
        return None
    if isinstance(raw, dict):
        given = _kinds(raw)
        if len(given) != 1:
            ck.fail(path, "give exactly one of constant, uniform, triangular, lognormal, exponential, empirical")
            return None
        kind = given[0]
        value = raw[kind]
        if kind == "uniform" and (len(value) != 2 or value[0] > value[1]):
            ck.fail(path + (kind,), "expected [min, max] with min <= max")
            return None
        if kind == "triangular" and (len(value) != 3 or not value[0] <= value[1] <= value[2]):
            ck.fail(path + (kind,), "expected [min, mode, max] with min <= mode <= max")
            return None
        if kind == "lognormal" and not 0 < value["median"] <= value["p95"]:
            ck.fail(path + (kind,), "expected 0 < median <= p95")
            return None
    return _dist(raw)


def build_strategies(raw: list, ck: Checker, pools: list[NodePool]) -> tuple[StrategySpec, ...]:
    specs: list[StrategySpec] = []
    explicit: dict[int, str] = {}
    indices: list[int] = []  # each spec's position in the file
    for i, entry in enumerate(raw):
        if entry is INVALID:
            continue
        path: Path = ("strategies", i)
        if "preset" in entry:
            preset = PRESETS.get(entry["preset"]) if isinstance(entry["preset"], str) else None
            if preset is None:
                ck.fail(path + ("preset",), f"unknown preset {entry['preset']!r}; "
                                            f"{suggest(str(entry['preset']), PRESETS)}valid: {', '.join(PRESETS)}")
                continue
            if "name" in entry:
                ck.fail(path + ("name",), f"give either a preset or a name, not both (preset {preset.name} is "
                                          f"strategy {preset.strategy})")
                continue
            entry = {"name": preset.strategy, "label": entry.get("label", preset.name), **dict(preset.params),
                     **{k: v for k, v in entry.items() if k not in ("preset", "label")}}
        name = entry.get("name")
        if not isinstance(name, str) or not name:
            ck.fail(path + ("name",), "missing required field 'name' (a strategy: " + ", ".join(registry.known_names())
                    + "), or 'preset' (" + ", ".join(PRESETS) + ")")
            continue
        try:
            params = registry.params_for(name)
        except registry.UnknownStrategy as exc:
            ck.fail(path + ("name",), f"{exc}; {suggest(name, registry.known_names())}".rstrip("; "))
            continue
        by_name = {p.name: p for p in params}
        values: dict[str, Any] = {p.name: p.default for p in params}
        label = entry.get("label")
        ok = True
        for key, value in entry.items():
            if key in ("name", "label"):
                continue
            if key not in by_name:
                ok = False
                ck.fail(path + (key,), f"unknown parameter {key!r} for strategy {name!r}; "
                                       f"{suggest(key, by_name)}valid: {', '.join(by_name) or 'none'}")
                continue
            values[key] = _param_spec(by_name[key]).check(value, path + (key,), ck)
            if by_name[key].kind == POOL_LIST and values[key] is not INVALID and pools:
                known = [p.name for p in pools]
                for j, pool in enumerate(values[key]):
                    if pool not in known:
                        values[key] = ck.fail(path + (key, j), f"no node pool named {pool!r}; "
                                                               f"{suggest(pool, known)}valid: {', '.join(known)}")
                        break
            ok = ok and values[key] is not INVALID
        if "maxSurge" in values and "maxUnavailable" in values and INVALID not in (values["maxSurge"],
                                                                                  values["maxUnavailable"]):
            try:
                for total in [p.count for p in pools] or [1]:
                    resolve_batch(values["maxSurge"], values["maxUnavailable"], total,
                                  surge_per_zone=values.get("surgePerZone") or 0)
            except ValueError as exc:
                ck.fail(path, f"{exc}; set maxSurge or maxUnavailable to 1 or more")
                continue
        if not ok:
            continue
        specs.append(StrategySpec(name, tuple(values.items()), str(label) if label else name))
        indices.append(i)
        explicit[len(specs) - 1] = ", ".join(f"{k}={v}" for k, v in entry.items() if k not in ("name", "label"))
    # Unlabelled strategies that share a name are told apart by their parameters.
    names = [s.name for s in specs]
    specs = [replace(s, label=f"{s.name}({explicit[i]})") if s.label == s.name and names.count(s.name) > 1 and explicit[i]
             else s for i, s in enumerate(specs)]
    labels = [s.label for s in specs]
    for i, s in enumerate(specs):
        if labels.count(s.label) > 1:
            ck.fail(("strategies", indices[i]), f"two strategies are both labelled {s.label!r}; give one a distinct 'label'")
            break
    return tuple(specs)


def build_timing(raw: dict, ck: Checker) -> Timing:
    """The timing record; ``include`` and ``profile`` are already folded in (``sim.scenario.timing_files``)."""
    def d(key: str, sub: tuple = ()) -> Dist:
        value = raw[key] if not sub else raw[key][sub[0]] if isinstance(raw[key], dict) else INVALID
        return check_dist(value, ("timing", key, *sub), ck) or Dist.constant(0)

    for key in ("evictionRetry", "reconcileInterval"):
        if raw[key] is not INVALID and raw[key] <= 0:
            ck.fail(("timing", key), f"{raw[key]:g}s would make the simulation spin without time passing; "
                                     "give a duration above 0, e.g. 5s")
    steps = tuple((k, d("inplace", (k,))) for k in ("stopKubelet", "replaceBinaries", "startKubelet", "rejoin"))
    return Timing(
        node_provision=d("nodeProvision"),
        node_delete=d("nodeDelete"),
        inplace_steps=steps,
        runtime_upgrade=d("inplace", ("runtimeUpgrade",)),
        control_plane_instance=d("controlPlaneInstance"),
        controller_instance=d("controllerInstance"),
        image_pull=d("imagePull"),
        pod_startup=d("podStartup"),
        eviction_retry_s=raw["evictionRetry"],
        node_monitor_grace_s=raw["nodeMonitorGrace"],
        not_ready_toleration_s=raw["notReadyToleration"],
        leader_lease_s=raw["leaderLease"],
        reconcile_interval_s=raw["reconcileInterval"],
        pod_termination=d("podTermination"),
        operator_response=None if raw["operatorResponse"] == "never" else d("operatorResponse"),
        endpoint_propagation=d("endpointPropagation"),
        lb_deregistration=d("lbDeregistration"),
        lb_health_check=d("lbHealthCheck"),
        volume_attach=d("volumeAttach"),
        volume_detach=d("volumeDetach"),
    )


def build_faults(raw: list, ck: Checker, cluster) -> tuple[FaultSpec, ...]:
    out = []
    for i, f in enumerate(raw):
        if f is INVALID:
            continue
        duration = check_dist(f["duration"], ("faults", i, "duration"), ck)
        spec = FaultSpec(type=f["type"], at=f["at"], target=f["target"], probability=f["probability"],
                         rate=f["rate"], duration=duration, step=f["step"], factor=f["factor"],
                         delay=f["delay"], limit=f["limit"], index=i)
        check_fault(spec, f, i, cluster, ck)
        out.append(spec)
    return tuple(out)


def build_live(raw: dict, ck: Checker) -> LiveSettings:
    hooks = []
    for name, template in (raw["hooks"] if isinstance(raw["hooks"], dict) else {}).items():
        if template in (None, INVALID):
            continue
        problem = check_template(template)
        if problem:
            ck.fail(("live", "hooks", name), problem)
        hooks.append((name, template))
    for key in ("retryDelay", "retryMaxDelay"):
        if raw[key] <= 0:
            ck.fail(("live", key), f"{raw[key]:g}s would send a failing request again at once, as fast as it fails; "
                                   "give a duration above 0, e.g. 1s")
    if raw["retryMaxDelay"] < raw["retryDelay"]:
        ck.fail(("live", "retryMaxDelay"), f"{raw['retryMaxDelay']:g}s is shorter than live.retryDelay "
                                           f"{raw['retryDelay']:g}s; give {raw['retryDelay']:g}s or more")
    return LiveSettings(raw["poolLabel"], tuple(hooks), raw["hookTimeout"], raw["drainParallelism"], raw["pollInterval"],
                        raw["apiOutageTimeout"], raw["retryDelay"], raw["retryMaxDelay"])


def strategy_by_name(name: str, pools: list[NodePool], option: str = "--strategy") -> StrategySpec:
    """A built-in or registered strategy, or a preset, with its defaults (for a command's option);
    ``ValueError`` says what is wrong with the name."""
    entry = {"preset": name} if name in PRESETS else {"name": name}
    ck = Checker(Source(option, {"strategies": [entry]}, origin={("strategies",): f"{option} {name}"}))
    specs = build_strategies([entry], ck, pools)
    if ck.problems:
        raise ValueError("; ".join(f"{option} {name}: {p.message}" for p in ck.problems))
    return specs[0]


def build_scenario(data: dict, ck: Checker, file: str) -> Scenario | None:
    """The scenario, or None when problems (recorded in ``ck``) were found."""
    cluster = build_cluster(data, ck)
    autoscaler = None
    if cluster is not None:  # services, the autoscaler and annotations refer to the cluster (sim.scenario.context)
        cluster = replace(apply_annotations(data["annotations"], ck, cluster),
                          services=build_services(data["services"], ck, cluster) if data["services"] is not INVALID
                          else ())
        autoscaler = build_autoscaler(data["autoscaler"], ck, cluster)
    target = data["target"]
    if target is not INVALID and check_version_exists(target, ("target",), ck) and cluster is not None:
        if target < cluster.oldest_apiserver:
            ck.fail(("target",), f"target {target} is older than the cluster's control plane {cluster.oldest_apiserver}; "
                                 f"midair rehearses upgrades (valid: {cluster.oldest_apiserver} or newer)")
        else:
            newest_kubelet = max((n.kubelet for n in cluster.nodes), default=None)
            if newest_kubelet is not None and target < newest_kubelet:
                ck.fail(("target",), f"target {target} is older than kubelet {newest_kubelet} on a node; "
                                     f"valid: {newest_kubelet} or newer")
    strategies = ()
    if data["strategies"] is not INVALID:
        strategies = build_strategies(data["strategies"], ck, list(cluster.pools) if cluster else [])
    timing = build_timing(data["timing"], ck) if data["timing"] is not INVALID else None
    faults = ()
    if data["faults"] is not INVALID:
        # a fault's target is looked up only in a cluster known whole: a refused pool may hold it
        whole = cluster if not (broken(data["cluster"]) or broken(data["workloads"])) else None
        faults = build_faults(data["faults"], ck, whole)
    live = build_live(data["live"], ck) if data["live"] is not INVALID else None
    expectations = build_expectations(data["expect"], ck, cluster) if data["expect"] is not INVALID else ()
    objectives = build_objectives(data["objectives"], ck) if data["objectives"] is not INVALID else ()
    if ck.problems or cluster is None or broken(data):
        return None
    horizon = data["horizon"]
    return Scenario(
        name=data["metadata"]["name"],
        description=data["metadata"]["description"],
        file=file,
        cluster=cluster,
        target=target,
        strategies=strategies,
        faults=faults,
        timing=timing,
        runs=data["runs"],
        seed=data["seed"],
        horizon_s=None if horizon == "auto" else float(horizon),
        safety=data["safety"] == "on",
        prechecks=data["prechecks"],
        inplace_restarts=data["inplaceRestarts"],
        autoscaler=autoscaler,
        start_time=data["startTime"],
        live=live,
        manifests=tuple(os.path.normpath(os.path.join(os.path.dirname(file), m)) for m in data["manifests"]),
        expectations=expectations,
        objectives=objectives,
    )
