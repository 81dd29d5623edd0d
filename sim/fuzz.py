"""``midair fuzz``: search the runs around one scenario for one that breaks an expectation or an
invariant, shrink it, and write it as a scenario file.

For each strategy, Hypothesis draws a variation of the user's own scenario from the public
generators of ``models.testing`` (extra faults for its cluster, with times within the length
of its upgrade; its timing distributions pinned within their ranges; small cluster changes)
and a seed, ``sim.testing.watch`` runs it once and judges it. The first variation drawn is no
variation: the scenario's own run 0. A failing one is shrunk (by Hypothesis, then by
``finish_shrinking``, which leaves out what the failure does not need) to a minimal
counterexample, which ``write_counterexample`` writes through ``sim.scenario.export`` (with a
comment saying what broke) beside its trace.

A search is deterministic for its seed. Failing examples are kept in a local example
database (Hypothesis', one directory per scenario file and strategy) and tried first next
time. May import Hypothesis (the ``testing`` extra), ``models`` and ``sim``.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import yaml
from hypothesis import HealthCheck, Phase, Verbosity, assume, given, settings
from hypothesis import seed as search_seed
from hypothesis import strategies as st
from hypothesis.database import DirectoryBasedExampleDatabase
from hypothesis.errors import Unsatisfiable

from models.invariants import Breach
from models.strategies.presets import PRESETS
from models.testing import cluster_changes, fault_schedules, fault_types_for, timings, varied
from sim.commands import trace as trace_command
from sim.output import atomic_write_many
from sim.prechecks import traits_for
from sim.sampling import derive_seed, plausible_range
from sim.scenario import InputError, Scenario, load_scenario_text
from sim.scenario.build import check_dist
from sim.scenario.export import to_yaml
from sim.scenario.fields import DISTRIBUTION, SCENARIO, TIMING
from sim.scenario.schema import Checker, Obj
from sim.scenario.model import StrategySpec
from sim.scenario.source import Source
from sim.simulate import simulate
from sim.testing.watch import WatchedRun, watch_run

VARY = ("faults", "timing", "cluster")
MAX_FAULTS = 6  # extra faults per example (Hypothesis draws about half as many on average)
MIN_HORIZON_S = 60  # extra faults fire within the scenario's own upgrade time, or this at least
SEEDS = 2**31  # the seeds drawn: the scenario's own, and the next ones
MIN_PROBABILITY = 0.05  # a fault less likely than this per opportunity is hardly bad luck
DEFAULT_GRACE_S = 40.0  # the node-monitor grace period when the scenario leaves it to the version


class _Broken(Exception):
    """Raised inside the search for an example that breaks something (Hypothesis shrinks it)."""


class VariationError(RuntimeError):
    """A drawn variation did not load: a bug in midair's generators, not in the user's plan."""


# timings that act on services' traffic alone: pinning them changes nothing in a scenario without services
TRAFFIC_TIMINGS = ("endpointPropagation", "lbDeregistration", "lbHealthCheck")


def timing_ranges(doc: Mapping) -> dict[str, tuple[float, float]]:
    """Every ``timing:`` distribution of the scenario (defaults included) that can change its runs,
    by dotted path, and the values it takes (``sim.sampling.plausible_range``)."""
    raw = dict(doc.get("timing") or {})
    ck = Checker(Source("<timing>", raw))
    checked = TIMING.check(raw, ("timing",), ck)
    out: dict[str, tuple[float, float]] = {}

    def walk(spec: Obj, values: dict, prefix: str) -> None:
        for name, f in spec.fields.items():
            if f.spec is DISTRIBUTION:
                dist = check_dist(values.get(name), ("timing", *prefix.split(".")[:-1], name), ck)
                if dist is not None:
                    out[prefix + name] = plausible_range(dist)
            elif isinstance(f.spec, Obj) and isinstance(values.get(name), dict):
                walk(f.spec, values[name], f"{prefix}{name}.")

    if isinstance(checked, dict):
        walk(TIMING, checked, "")
    if not doc.get("services"):
        out = {k: v for k, v in out.items() if k not in TRAFFIC_TIMINGS}
    return out


@dataclass(frozen=True)
class Target:
    """One strategy of a scenario to fuzz: the scenario as written (``--set`` applied) with only
    this strategy, under its label, and one run."""

    doc: dict
    scenario: Scenario
    file: str  # the scenario file (its manifests are relative to it)

    @property
    def label(self) -> str:
        return self.scenario.strategies[0].label


def targets(doc: Mapping, scenario: Scenario, specs: Sequence[StrategySpec], file: str) -> list[Target]:
    """A ``Target`` per strategy, in the order given: the scenario's own entries, or a built-in strategy
    or preset with its defaults (``--strategy``). The timing files a scenario names are folded into
    ``doc`` already (``sim.scenario.timing_files``): the target keeps their values, not their names."""
    entries = doc.get("strategies") or SCENARIO.fields["strategies"].default
    timing = {k: v for k, v in (doc.get("timing") or {}).items() if k not in ("include", "profile")}
    out = []
    for spec in specs:
        if spec in scenario.strategies:  # a valid scenario has one spec per entry, in order
            entry = dict(entries[scenario.strategies.index(spec)])
        else:
            entry = {"preset": spec.label} if spec.label in PRESETS else {"name": spec.name}
        one = {**doc, "strategies": [{**entry, "label": spec.label}], "runs": 1,
               **({"timing": timing} if doc.get("timing") is not None else {})}
        out.append(Target(one, load(one, file), file))
    return out


def load(doc: Mapping, file: str) -> Scenario:
    try:
        return load_scenario_text(yaml.safe_dump(dict(doc), sort_keys=False), file)
    except InputError as exc:
        raise VariationError(f"a variation of {file} did not load (a bug in midair fuzz): {exc}") from None


def run_seed(scenario: Scenario) -> int:
    """The seed of run 0 of the scenario: what ``midair trace`` and ``midair run --runs 1`` use."""
    return derive_seed(scenario.seed, "run", 0)


def check(doc: Mapping, file: str) -> WatchedRun:
    scenario = load(doc, file)
    return watch_run(scenario, scenario.strategies[0], run_seed(scenario))


def variations(target: Target, vary: Sequence[str], horizon_s: int,
               at_times: Sequence[float] = ()) -> st.SearchStrategy[dict]:
    """What an example changes: its seed (the scenario's own first), and per ``vary`` extra faults
    (of the types that can touch this strategy, within ``horizon_s``, often at one of ``at_times``),
    pinned timings and cluster changes. Every part shrinks towards no change."""
    cluster, base_seed = target.scenario.cluster, target.scenario.seed
    types = fault_types_for(traits_for(target.scenario.strategies[0], cluster))
    return st.fixed_dictionaries({
        "seed": st.integers(0, SEEDS - 1).map(lambda k: (base_seed + k) % SEEDS),
        # plausible bad luck strikes during the upgrade (a rate from once to three times in its length, a
        # probability not too small to matter) and passes (every window closes; a node may die for good)
        "faults": fault_schedules(cluster, max_faults=MAX_FAULTS, horizon_s=horizon_s, types=types, at_times=at_times,
                                  min_probability=MIN_PROBABILITY, min_rate=3600.0 / horizon_s,
                                  max_rate=3 * 3600.0 / horizon_s, windows_close=True)
        if "faults" in vary else st.just(()),
        "timing": timings(timing_ranges(target.doc)) if "timing" in vary else st.just({}),
        "changes": cluster_changes(cluster, not_ready=target.scenario.prechecks == "ignore") if "cluster" in vary
        else st.just(()),
    })


def example_doc(target: Target, variation: Mapping) -> dict:
    return varied(target.doc, faults=variation["faults"], timing=variation["timing"], changes=variation["changes"],
                  seed=variation["seed"])


@dataclass(frozen=True)
class Found:
    doc: dict  # the minimal counterexample, as a scenario dict
    variation: dict  # what it changed
    breaches: tuple[Breach, ...]


@dataclass
class Outcome:
    label: str
    tried: int = 0  # examples run before the first failure (every one, when none failed)
    skipped: int = 0  # examples a blocking pre-check stopped (an upgrade that would not start)
    shrink_steps: int = 0
    found: Found | None = None
    blocked: str | None = None  # why the scenario's own run cannot start
    seconds: float = 0.0


def database_for(root: str, target: Target) -> DirectoryBasedExampleDatabase:
    """The example database of one scenario file and strategy, under ``root``."""
    ident = f"{os.path.abspath(target.file)}|{target.label}"
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", f"{target.scenario.name}-{target.label}")[:60]
    return DirectoryBasedExampleDatabase(os.path.join(root, f"{slug}-{hashlib.sha256(ident.encode()).hexdigest()[:8]}"))


def fuzz(target: Target, *, examples: int, seed: int, vary: Sequence[str], database: str | None,
         progress: Callable[..., None] | None = None) -> Outcome:
    """Search up to ``examples`` variations of ``target`` for a run that breaks something."""
    started = time.monotonic()
    out = Outcome(target.label)
    base = watch_run(target.scenario, target.scenario.strategies[0], run_seed(target.scenario))
    if not base.started:
        out.blocked = base.result.halted if base.result else "the run did not start"
        return out
    horizon = max(MIN_HORIZON_S, int(base.result.metrics["duration_s"]))
    # faults that strike when the upgrade acts, or one node-monitor grace period before (so that a
    # crashed node is NotReady by then), are the ones most likely to matter
    grace = target.scenario.timing.node_monitor_grace_s or DEFAULT_GRACE_S
    acted = {e.t for e in base.result.log if e.kind in ("action", "unsafe", "failed")}
    at_times = sorted(acted | {t - grace for t in acted if t >= grace})
    state = {"calls": 0, "last": None}
    advance = progress or (lambda done, total, description=None: None)

    def prop(variation):
        doc = example_doc(target, variation)
        watched = check(doc, target.file)
        state["calls"] += 1
        if state["last"] is None:
            out.tried = state["calls"]
            advance(min(out.tried, examples), examples)
        else:
            out.shrink_steps += 1
            advance(examples, examples, f"{target.label}: shrinking ({out.shrink_steps} step(s))")
        if not watched.started:
            out.skipped += 1
            assume(False)
        if watched.breaches:
            state["last"] = Found(doc, dict(variation), watched.breaches)
            raise _Broken(watched.breaches[0].describe())

    search = settings(parent=settings.get_profile("default"), max_examples=examples, deadline=None,
                      database=database_for(database, target) if database else None,
                      phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink),
                      suppress_health_check=list(HealthCheck), report_multiple_bugs=False, print_blob=False,
                      verbosity=Verbosity.quiet)(search_seed(seed)(given(variations(target, vary, horizon, at_times))(prop)))
    try:
        search()
    except _Broken:
        out.found, steps = finish_shrinking(target, state["last"])
        out.shrink_steps += steps
    except Unsatisfiable:
        pass  # every example was one a blocking pre-check stops: ``skipped`` says how many
    out.seconds = time.monotonic() - started
    return out


def _without_one(variation: Mapping):
    """Each variation with one added fault, one cluster change or one pinned timing fewer."""
    for part in ("faults", "changes"):
        items = list(variation[part])
        for i in range(len(items)):
            yield {**variation, part: tuple(items[:i] + items[i + 1:])}

    def pins(d: Mapping, prefix: tuple = ()):
        for k, v in d.items():
            yield from pins(v, prefix + (k,)) if isinstance(v, Mapping) else [prefix + (k,)]

    def drop(d: Mapping, path: tuple) -> dict:
        out = {k: (drop(v, path[1:]) if k == path[0] and len(path) > 1 else v) for k, v in d.items()
               if not (k == path[0] and len(path) == 1)}
        return {k: v for k, v in out.items() if v != {}}

    for path in list(pins(variation["timing"])):
        yield {**variation, "timing": drop(variation["timing"], path)}


def finish_shrinking(target: Target, found: Found) -> tuple[Found, int]:
    """Hypothesis' shrinking is not always 1-minimal: leave out what the failure does not need (one
    added fault, cluster change or timing pin at a time, while the run still breaks one of the same
    invariants). Returns the result and how many runs it took."""
    broken = {b.invariant for b in found.breaches}
    steps = 0
    progress = True
    while progress:
        progress = False
        for trial in _without_one(found.variation):
            doc = example_doc(target, trial)
            watched = check(doc, target.file)
            steps += 1
            if watched.started and broken & {b.invariant for b in watched.breaches}:
                found, progress = Found(doc, trial, watched.breaches), True
                break
    return found, steps


def _changes(variation: Mapping, base_faults: int) -> list[str]:
    """What a counterexample changed, in words."""
    out = [f"faults[{base_faults + i}] added: {yaml.safe_dump(f, default_flow_style=True, width=200).strip()}"
           for i, f in enumerate(variation["faults"])]
    flat = []

    def walk(d: Mapping, prefix: str) -> None:
        for k, v in d.items():
            walk(v, f"{prefix}{k}.") if isinstance(v, Mapping) else flat.append(f"timing.{prefix}{k} pinned to {v}")

    walk(variation["timing"], "")
    out += flat
    for c in variation["changes"]:
        subject = c.get("node") or c["workload"]
        what = ", ".join(f"{k}: {yaml.safe_dump(v, default_flow_style=True).strip()}" for k, v in c.items()
                         if k not in ("node", "workload"))
        out.append(f"{'node' if 'node' in c else 'workload'} {subject}: {what}")
    return out


def write_counterexample(outcome: Outcome, target: Target, out_dir: str, search: int) -> tuple[str, str]:
    """Write ``out_dir/counterexample.yaml`` (valid, with a comment on what broke) and
    ``out_dir/counterexample.trace``; returns their paths."""
    found = outcome.found
    yaml_path = os.path.join(out_dir, "counterexample.yaml")
    trace_path = os.path.join(out_dir, "counterexample.trace")
    doc = dict(found.doc)
    doc["metadata"] = {**doc["metadata"], "description": f"midair fuzz counterexample for strategy {target.label}"}
    if doc.get("manifests"):  # relative to the new file, as they were to the old one
        here = os.path.dirname(os.path.abspath(yaml_path))
        doc["manifests"] = [os.path.relpath(os.path.join(os.path.dirname(os.path.abspath(target.file)), m), here)
                            for m in doc["manifests"]]
    changes = _changes(found.variation, len(target.doc.get("faults") or [])) or ["nothing but the seed"]
    header = "\n".join([
        f"midair fuzz: a run of strategy {target.label} on {target.file} that breaks what must hold",
        f"(found after {outcome.tried} example(s) with --seed {search}, shrunk in {outcome.shrink_steps} step(s)).",
        "What broke:", *(f"  - {b.describe()}" for b in found.breaches),
        f"What differs from {target.file} (seed {found.variation['seed']}):", *(f"  - {c}" for c in changes),
        f"Replay: midair fuzz {yaml_path} --replay",
        f"Trace:  midair trace {yaml_path} --strategy {target.label} --events  (in {trace_path})"])
    text = to_yaml(doc, header)
    scenario = load_scenario_text(text, yaml_path)  # it must load as it is written
    traced = simulate(scenario, scenario.strategies[0], run_seed(scenario), keep_world=True)
    trace = "".join(f"# {line}\n" for line in header.splitlines())
    trace += trace_command.text(trace_command.document(scenario.name, target.label, run_seed(scenario), traced, True))
    atomic_write_many({yaml_path: text.encode("utf-8"), trace_path: trace.encode("utf-8")})
    return yaml_path, trace_path
