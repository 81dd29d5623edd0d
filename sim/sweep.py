"""Sweeps: scenario variants × strategies × runs, on any executor, with identical results.

A variant is the scenario with some ``--set`` overrides (one point of a ``--grid``). Run
*i* of every (variant, strategy) uses the seed derived from the root seed and *i*, so
strategies meet the same luck, and a result never depends on which worker ran it or
in which order: results are put back in job order before anything is written.

Executors (``sim.executors``) map a function over jobs: ``serial``, a local ``process``
pool (the default), or ``dask`` (a Dask distributed scheduler, the ``dask`` extra). What
every run of a (variant, strategy) shares, its scenario, pre-check findings and plan, is
worked out once per sweep and reaches each worker once. Finished runs can be appended
to a checkpoint file as they arrive, so an interrupted sweep resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from sim.errors import UsageError
from sim.executors import DaskExecutor, ProcessExecutor, SerialExecutor, executor_for  # noqa: F401 (their home was here)
from sim.metrics import METRIC_NAMES
from sim.output import read_json_lines
from sim.prechecks import findings_for
from sim.sampling import derive_seed
from sim.scenario import Scenario, load_scenario
from sim.scenario.model import StrategySpec
from sim.stats import summarize

NUMERIC = tuple(m for m in METRIC_NAMES if m not in ("completed", "halted"))


@dataclass(frozen=True)
class Variant:
    name: str  # "" for the scenario as written
    sets: tuple[str, ...]
    scenario: Scenario


@dataclass(frozen=True)
class Job:
    index: int
    variant: str
    strategy: StrategySpec
    run: int
    seed: int
    inputs: str = ""  # a digest of the scenario variant and strategy the run simulates

    @property
    def label(self) -> str:
        return f"{self.strategy.label} [{self.variant}]" if self.variant else self.strategy.label

    @property
    def key(self) -> str:
        """Identifies the job across restarts (for resuming)."""
        return f"{self.variant}|{self.strategy.label}|{self.run}|{self.seed}|{self.inputs}"


def parse_grid(grids: Iterable[str]) -> list[tuple[str, list[str]]]:
    axes = []
    for g in grids:
        path, sep, values = g.partition("=")
        if not sep or not path or not values:
            raise UsageError(f"--grid {g}: expected PATH=V1,V2,... e.g. --grid strategies[0].maxUnavailable=1,2,3")
        axes.append((path, [v.strip() for v in values.split(",") if v.strip()]))
    return axes


def variants(path: str, sets: Iterable[str], grids: Iterable[str], timing: str | None = None) -> list[Variant]:
    """The scenario once per point of the grid (or once, without a grid). A bad value of the
    grid is an error that names the ``--grid`` argument. ``timing``: a ``--timing`` file."""
    grids = list(grids)
    axes = parse_grid(grids)
    out = []
    for point in itertools.product(*[[(k, p, v) for v in vs] for k, (p, vs) in enumerate(axes)]) if axes else [()]:
        extra = tuple(f"{p}={v}" for _, p, v in point)
        name = ", ".join(extra)
        labelled = [(f"--grid {grids[k]}", f"{p}={v}") for k, p, v in point]
        out.append(Variant(name, extra, load_scenario(path, [*sets, *labelled], timing)))
    return out


def _touches(vs: list[Variant]) -> list[set[int] | None]:
    """Per grid axis, the positions of the strategies it changes (None: every one, and the rest
    of the scenario). An axis over ``strategies[...]`` changes only the entries whose spec differs
    between its values, others held still."""
    axes = len(vs[0].sets)
    counts = {len(v.scenario.strategies) for v in vs}
    out: list[set[int] | None] = []
    for k in range(axes):
        if not vs[0].sets[k].startswith("strategies[") or len(counts) > 1:
            out.append(None)
            continue
        groups: dict[tuple, list[Variant]] = {}
        for v in vs:
            groups.setdefault(v.sets[:k] + v.sets[k + 1:], []).append(v)
        out.append({i for group in groups.values() for i in range(len(group[0].scenario.strategies))
                    if len({g.scenario.strategies[i] for g in group}) > 1})
    return out


def grid_work(vs: list[Variant], choose: Callable[[Scenario], list[StrategySpec]]
              ) -> list[tuple[Variant, list[StrategySpec]]]:
    """Which strategies run under which point of the grid: each under the points of the axes that
    change it, labelled by those alone, strategy after strategy. ``--grid strategies[0].maxSurge=1,2``
    varies the first strategy; the others run once, under their own label, not again per value."""
    touches = _touches(vs)
    placed: dict[tuple[int, str], tuple[int, Variant, StrategySpec]] = {}
    for k, v in enumerate(vs):
        for j, spec in enumerate(choose(v.scenario)):
            i = v.scenario.strategies.index(spec) if spec in v.scenario.strategies else None
            sets = tuple(a for n, a in enumerate(v.sets) if touches[n] is None or i is None or i in touches[n])
            placed.setdefault((j, ", ".join(sets)), (k, Variant(", ".join(sets), sets, v.scenario), spec))
    order = sorted(placed, key=lambda key: (key[0], placed[key][0]))
    return [(placed[key][1], [placed[key][2]]) for key in order]


def inputs_digest(scenario: Scenario, spec: StrategySpec) -> str:
    """What a run's result depends on besides its seed: the scenario as simulated (not its file
    name, run count, root seed or expectations) and the strategy. A resumed sweep reuses a run only
    if this matches."""
    simulated = replace(scenario, file="", runs=0, seed=0, description="", expectations=(), objectives=())
    return hashlib.sha256(repr((simulated, spec)).encode()).hexdigest()[:16]


def jobs(work: Iterable[tuple[Variant, Iterable[StrategySpec]]], runs: int, root_seed: int) -> list[Job]:
    out: list[Job] = []
    for variant, strategies in work:
        for spec in strategies:
            digest = inputs_digest(variant.scenario, spec)
            for i in range(runs):
                out.append(Job(len(out), variant.name, spec, i, derive_seed(root_seed, "run", i), digest))
    return out


def read_checkpoint(path: str) -> dict[str, dict]:
    """The finished runs recorded in ``path``: key to record (``data``, and the sweep's
    ``root_seed``). A last line cut short by an interruption is dropped; anything else that is
    not a run record is an error."""
    done: dict[str, dict] = {}
    for number, record in read_json_lines(path, "this is not a sweep's checkpoint (run without --resume to start over)"):
        if not (isinstance(record, dict) and isinstance(record.get("key"), str) and isinstance(record.get("data"), dict)):
            raise UsageError(f"{path}:{number}: not a run record (expected key and data); run without --resume "
                             "to start over")
        done[record["key"]] = record
    return done


def _stale_notice(stale: list[dict], checkpoint: str, root_seed: int | None) -> str:
    """Why finished runs are not reused: another root seed (say which), or other inputs."""
    seeds = sorted({r["root_seed"] for r in stale if isinstance(r.get("root_seed"), int) and r["root_seed"] != root_seed})
    if seeds and root_seed is not None:
        shown = ", ".join(str(x) for x in seeds)
        return (f"{len(stale)} finished run(s) in {checkpoint} were made with root seed {shown}, not {root_seed}, and "
                f"are not reused; to keep them, resume with --seed {seeds[0]}")
    return (f"{len(stale)} finished run(s) in {checkpoint} were for other inputs (a changed scenario, --set or "
            "--grid) and are not reused")


@dataclass(frozen=True)
class Row:
    """One finished run, as written to results.json."""

    job: Job
    data: dict

    @property
    def label(self) -> str:
        return self.job.label


@dataclass(frozen=True)
class Prepared:
    """What a run needs that depends only on its scenario variant and strategy, worked out once
    per sweep, not once per run: the pre-check findings and the upgrade plan (None: there is
    none, and the run says why)."""

    findings: list
    plan: object | None


def prepare(scenario: Scenario, spec: StrategySpec) -> Prepared:
    from sim.simulate import plan_for

    try:
        plan = plan_for(scenario, spec)
    except ValueError:
        plan = None
    return Prepared(findings_for(scenario, spec), plan)


@dataclass(frozen=True)
class Shared:
    """What every worker of a sweep holds once: the scenario of each variant by name, and each
    (variant, strategy) prepared, by the digest of its inputs."""

    scenarios: dict[str, Scenario]
    prepared: dict[str, Prepared]


def run_job(scenario: Scenario, job: Job, prepared: Prepared | None = None) -> Row:
    from sim.simulate import simulate  # the simulator (simpy, the world) is loaded where runs happen

    prepared = prepared or prepare(scenario, job.strategy)
    result = simulate(scenario, job.strategy, job.seed, findings=prepared.findings, plan=prepared.plan)
    data = result.to_json()
    data["strategy"] = job.strategy.label
    data["variant"] = job.variant
    data["run"] = job.run
    return Row(job, data)


def run_shared(shared: Shared, job: Job) -> Row:
    """One job on a worker that holds ``shared``."""
    return run_job(shared.scenarios[job.variant], job, shared.prepared.get(job.inputs))


def shared_for(variants_: list[Variant], todo: list[Job]) -> Shared:
    by_name = {v.name: v.scenario for v in variants_}
    prepared: dict[str, Prepared] = {}
    for j in todo:
        if j.inputs and j.inputs not in prepared:
            prepared[j.inputs] = prepare(by_name[j.variant], j.strategy)
    return Shared({name: by_name[name] for name in {j.variant for j in todo}}, prepared)


def run_sweep(variants_: list[Variant], work: list[Job], executor, checkpoint: str | None = None,
              progress: Callable[[int, int], None] | None = None,
              notice: Callable[[str], None] | None = None, root_seed: int | None = None) -> list[Row]:
    """Run every job not already in ``checkpoint``; return all rows in job order. ``root_seed``
    is recorded with each run, so that a resume with another seed can say why it starts over."""
    records = read_checkpoint(checkpoint) if checkpoint and os.path.exists(checkpoint) else {}
    keys = {j.key for j in work}
    stale = [r for k, r in records.items() if k not in keys]
    if stale and notice:
        notice(_stale_notice(stale, checkpoint, root_seed))
    done = {k: r["data"] for k, r in records.items()}
    todo = [j for j in work if j.key not in done]
    finished = len(work) - len(todo)
    if progress:
        progress(finished, len(work))
    if checkpoint and records:
        drop_cut_line(checkpoint)
    sink = open(checkpoint, "a", encoding="utf-8") if checkpoint else None
    try:
        for row in executor.map(run_shared, todo, shared_for(variants_, todo)):
            done[row.job.key] = row.data
            if sink:
                sink.write(json.dumps({"key": row.job.key, "root_seed": root_seed, "data": row.data}) + "\n")
                sink.flush()
            finished += 1
            if progress:
                progress(finished, len(work))
    finally:
        if sink:
            sink.close()
    return [Row(j, done[j.key]) for j in work]


ROLLED_BACK = "rolled back"  # how the halt reason of a rollback begins (models.strategies.bluegreen)


def rolled_back(reason: str | None) -> bool:
    return bool(reason) and reason.startswith(ROLLED_BACK)


def stop_phrase(reason: str) -> tuple[str, str]:
    """("rolled back", the reason after it) for a rollback, else ("halted", the reason)."""
    if rolled_back(reason):
        return ROLLED_BACK, reason.removeprefix(ROLLED_BACK).removeprefix(":").lstrip()  # (": X", " as far as ...")
    return "halted", reason


def drop_cut_line(path: str) -> None:
    """Cut a last line an interruption left unfinished, so that what is appended starts a line of its own."""
    with open(path, "rb+") as fh:
        data = fh.read()
        if data and not data.endswith(b"\n"):
            fh.truncate(data.rfind(b"\n") + 1)


def halt_kind(reason: str) -> str:
    """A halt reason with its counts of refused evictions left out, so that alike halts group together."""
    return re.sub(r"(evictions refused with HTTP 429 \()[^)]*\)", lambda m: m.group(1) + "...)", reason)


def summary(rows: list[Row]) -> dict[str, dict]:
    """Per label (strategy, with its variant): statistics of every numeric metric, and how runs ended."""
    by_label: dict[str, list[dict]] = {}
    for r in rows:
        by_label.setdefault(r.label, []).append(r.data)
    out = {}
    for label, runs in by_label.items():
        halts: dict[str, int] = {}
        for r in runs:
            if r["halted"]:
                reason = halt_kind(r["halted"])
                halts[reason] = halts.get(reason, 0) + 1
        out[label] = {
            "runs": len(runs),
            "completed": sum(1 for r in runs if r["completed"]) / len(runs),
            "halted": dict(sorted(halts.items())),
            "metrics": {m: summarize([float(r["metrics"][m]) for r in runs]) for m in NUMERIC},
        }
    return out
