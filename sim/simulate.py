"""One simulated run: a world, a strategy, the runner, and the metrics at the end."""

from __future__ import annotations

from dataclasses import dataclass, field

from models.plan import plan_for_params
from models.progress import left_behind
from models.prechecks import blocking
from sim import registry
from sim.adapters.simulated import SimulatedPort
from sim.collector import run_collection
from sim.metrics import Recorder
from sim.prechecks import findings_for
from sim.runner import Journal, LogEntry, Outcome, reconcile
from sim.scenario.model import Scenario, StrategySpec
from sim.world import World

# After the upgrade ends, keep watching: consequences can lag (a node turns NotReady 40 s
# after its kubelet fails; its pods are evicted 300 s later). Watch at least AFTERMATH_S,
# then until the workloads have settled, at most SETTLE_CAP_S.
AFTERMATH_S = 600.0
SETTLE_CAP_S = 3600.0
SETTLE_STEP_S = 10.0


@dataclass
class RunResult:
    scenario: str
    strategy: str
    seed: int
    completed: bool
    halted: str | None
    metrics: dict
    workloads: dict = field(default_factory=dict)
    log: list[LogEntry] = field(default_factory=list)
    world: World | None = None
    pools: dict = field(default_factory=dict)  # per pool: the roll's duration and its node churn
    left: dict | None = None  # for a halted run: the cluster as it was left (models.progress.left_behind)
    services: dict = field(default_factory=dict)  # per service: its failed requests and error time

    def to_json(self) -> dict:
        return {"scenario": self.scenario, "strategy": self.strategy, "seed": self.seed,
                "completed": self.completed, "halted": self.halted, "metrics": self.metrics,
                "workloads": self.workloads, "services": self.services, "pools": self.pools, "left": self.left}


def auto_horizon(scenario: Scenario, plan) -> float:
    """1 h, plus 30 min per control-plane instance per hop, plus 10 min per node per worker roll."""
    instances = len(scenario.cluster.control_plane.instances)
    hops = len(plan.path.control_plane_hops)
    nodes = len(scenario.cluster.nodes)
    return 3600.0 + 1800.0 * instances * hops + 600.0 * nodes * max(plan.path.worker_rolls, 1)


def world_for(scenario: Scenario, seed: int, keep_series: bool = True, faults_factory=None) -> World:
    """The simulated cluster of ``scenario`` for one run: the scenario's records handed to the world."""
    return World(scenario.cluster, scenario.timing, seed, scenario.faults, inplace_restarts=scenario.inplace_restarts,
                 faults_factory=faults_factory, keep_series=keep_series, autoscaler=scenario.autoscaler,
                 clock_origin=scenario.start_time)


def build_strategy(spec: StrategySpec):
    return registry.strategy_class(spec.name)(**spec.kwargs())


def plan_for(scenario: Scenario, spec: StrategySpec):
    params = spec.kwargs()
    return plan_for_params(scenario.cluster, scenario.target, params)


def _settled(world: World) -> bool:
    return world.sched.pending == 0 and all(w.ready >= w.desired for w in world.workloads.values())


class Operator:
    """The upgrade process: it runs the reconcile loop; a crash kills it between two decisions,
    and after a delay a new one starts from the journal (a fresh strategy object, the saved memo)."""

    def __init__(self, world: World, port: SimulatedPort, make_strategy, plan, journal: Journal,
                 safety: bool, horizon: float):
        self.world, self.port, self.make_strategy = world, port, make_strategy
        self.plan, self.journal, self.safety, self.horizon = plan, journal, safety, horizon
        self.current = None
        self.delay = 0.0
        world.faults.on_operator_crash = self.crash

    def crash(self, delay: float) -> None:
        if self.current is not None and self.current.is_alive:
            self.delay = delay
            self.world.env.process(self._interrupt(self.current))

    def _interrupt(self, proc):
        yield self.world.env.timeout(0)
        if proc.is_alive:
            proc.interrupt("operator crash")

    def run(self):
        env = self.world.env
        while True:
            loop = reconcile(self.port, self.make_strategy(), self.plan, self.journal,
                             safety=self.safety, horizon=self.horizon)
            self.current = self.port.drive(loop)
            outcome = yield self.current
            if outcome is not None:
                return outcome
            # a restart takes at least one reconcile interval: an operator back "in 0s" that crashes after
            # every decision (probability 1) would otherwise decide forever without the clock moving
            delay = max(self.delay, self.world.timing.reconcile_interval_s)
            self.world.rec.event(env.now, f"the operator crashed; it resumes from its journal in {delay:g}s")
            yield env.timeout(delay)


def blocked_result(scenario: Scenario, spec: StrategySpec, seed: int, blocks) -> RunResult:
    """A run that ``prechecks: enforce`` stopped before it started."""
    ids = ", ".join(sorted({f.id for f in blocks}))
    reason = f"blocked by {len(blocks)} pre-check finding(s): {ids} (see midair precheck; prechecks: ignore to run anyway)"
    return unstarted(scenario, spec, seed, reason)


def unstarted(scenario: Scenario, spec: StrategySpec, seed: int, reason: str) -> RunResult:
    """A run halted before its first decision, for ``reason``."""
    rec = Recorder(sum(p.count for p in scenario.cluster.pools), keep_series=False)
    for s in scenario.cluster.services:
        rec.track_service(s.key, s.requests_per_second)
    rec.finish(0.0)
    return RunResult(scenario.name, spec.label, seed, False, reason, rec.metrics(0.0, False, reason),
                     pools=rec.per_pool(p.name for p in scenario.cluster.pools), services=rec.per_service())


def simulate(scenario: Scenario, spec: StrategySpec, seed: int, keep_world: bool = False,
             strategy=None, findings=None, wrap_port=None, plan=None) -> RunResult:
    """Run ``spec`` on ``scenario`` with ``seed`` to the end and measure it.

    With ``prechecks: enforce`` (the default) a blocking pre-check finding stops the run
    before it starts; ``findings`` may pass them in when they are already known, and
    ``plan`` the upgrade plan (``plan_for``; a sweep works both out once, not per run).
    ``wrap_port``, given the simulated port, returns the port the loop uses instead (a
    wrapper that watches every decision: ``sim.testing.watch``).
    """
    if scenario.prechecks == "enforce":
        blocks = blocking(findings if findings is not None else findings_for(scenario, spec))
        if blocks:
            return blocked_result(scenario, spec, seed, blocks)
    try:
        plan = plan if plan is not None else plan_for(scenario, spec)
    except ValueError as exc:  # e.g. a kubelet newer than the apiserver (prechecks: ignore)
        return unstarted(scenario, spec, seed, f"no upgrade plan: {exc}")
    with run_collection():
        return _run(scenario, spec, seed, plan, keep_world, strategy, wrap_port)


def _run(scenario: Scenario, spec: StrategySpec, seed: int, plan, keep_world: bool, strategy,
         wrap_port) -> RunResult:
    world = world_for(scenario, seed, keep_series=keep_world)
    port = SimulatedPort(world) if wrap_port is None else wrap_port(SimulatedPort(world))
    horizon = scenario.horizon_s if scenario.horizon_s is not None else auto_horizon(scenario, plan)
    journal = Journal()
    make = (lambda: strategy) if strategy is not None else (lambda: build_strategy(spec))
    operator = Operator(world, port, make, plan, journal, scenario.safety, horizon)
    proc = world.env.process(operator.run())
    world.env.run(until=proc)
    outcome: Outcome = proc.value
    left = left_behind(port.observe(), plan) if outcome.halted else None
    world.rec.upgrade_ended(world.env.now)
    world.faults.stop()
    end = world.env.now + SETTLE_CAP_S
    world.env.run(until=world.env.now + AFTERMATH_S)
    while world.env.now < end and not _settled(world):
        world.env.run(until=min(end, world.env.now + SETTLE_STEP_S))
    world.rec.finish(world.env.now)
    metrics = world.rec.metrics(outcome.finished_at, outcome.completed, outcome.halted)
    return RunResult(scenario.name, spec.label, seed, outcome.completed, outcome.halted, metrics,
                     world.rec.per_workload(), journal.entries, world if keep_world else None,
                     world.rec.per_pool(p.name for p in scenario.cluster.pools), left, world.rec.per_service())
