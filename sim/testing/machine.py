"""A stateful test of the reconcile loop over the simulated cluster, to subclass for your own strategy.

``UpgradeLoopMachine`` is a Hypothesis ``RuleBasedStateMachine`` that plays the upgrade
operator one step at a time, in an order Hypothesis chooses:

- ``decide``: observe, let the strategy decide, submit what the safety policies allow,
  keep the memo (as the runner does; then one reconcile interval passes);
- ``advance``: let simulated time pass;
- ``crash_node`` / ``crash_apiserver``: inject a fault;
- ``crash_operator``: the operator dies part-way through a decision (its memo already
  journaled, only some of its actions submitted) and a fresh strategy object resumes from
  the journal.

After every step it checks the cluster against a tiny reference model of what must hold:
versions only move forward (kubelets, control-plane instances, add-ons), no voluntary
disruption below a budget (unless the strategy was told to force), no version-skew
violation in the cluster and none asked for, no action applied twice
(``models.invariants``).

Use it for your own strategy (the ``testing`` extra)::

    from sim.testing.machine import UpgradeLoopMachine

    class MyStrategyLoop(UpgradeLoopMachine):
        scenario_file = "scenarios/my-cluster.yaml"
        strategy = "my_pkg.canary:Canary"  # a label of the scenario's strategies, or any strategy name

    TestMyStrategyLoop = MyStrategyLoop.TestCase
"""

from __future__ import annotations

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from models.actions import Halt
from models.invariants import Breach, forces_past_budgets, repeated
from models.policies import review
from models.sorting import natural_key
from sim.adapters.simulated import SimulatedPort
from sim.runner import RESYNC_S
from sim.scenario import Scenario, load_scenario, load_scenario_text
from sim.scenario.build import strategy_by_name
from sim.scenario.model import StrategySpec
from sim.simulate import build_strategy, plan_for, world_for


class UpgradeLoopMachine(RuleBasedStateMachine):
    """Set ``scenario_file`` (or ``scenario_text``) and ``strategy`` in a subclass; ``seed`` seeds the world."""

    scenario_file: str | None = None
    scenario_text: str | None = None
    strategy: str | None = None  # default: the scenario's first strategy
    seed: int = 0
    max_advance_s: int = 900

    _cache: dict = {}

    @classmethod
    def load(cls) -> tuple[Scenario, StrategySpec]:
        """The scenario and the strategy under test (loaded once per class)."""
        key = (cls.scenario_file, cls.scenario_text, cls.strategy)
        if key not in UpgradeLoopMachine._cache:
            if cls.scenario_file:
                scenario = load_scenario(cls.scenario_file)
            elif cls.scenario_text:
                scenario = load_scenario_text(cls.scenario_text, f"<{cls.__name__}.scenario_text>")
            else:
                raise TypeError(f"{cls.__name__}: set scenario_file or scenario_text")
            spec = scenario.strategies[0]
            if cls.strategy:
                try:
                    spec = scenario.strategy(cls.strategy)
                except KeyError:
                    spec = strategy_by_name(cls.strategy, list(scenario.cluster.pools), f"{cls.__name__}.strategy")
            UpgradeLoopMachine._cache[key] = (scenario, spec)
        return UpgradeLoopMachine._cache[key]

    def __init__(self) -> None:
        super().__init__()
        self.scenario, self.spec = self.load()
        self.world = world_for(self.scenario, self.seed, keep_series=False)
        self.port = SimulatedPort(self.world)
        self.plan = plan_for(self.scenario, self.spec)
        self.operator = build_strategy(self.spec)
        self.memo: dict = {}
        self.finished = ""  # why the loop stopped (done, or a halt)
        self.breaches: list[Breach] = []
        self.seen: dict[str, object] = {}  # the reference model: the newest version seen of each component
        self.forced = forces_past_budgets(self.spec.kwargs())

    # -- the operator ----------------------------------------------------------------------
    def _decide(self, submit_at_most: int | None = None):
        view = self.port.observe()
        decision = self.operator.decide(view, self.plan, self.memo)
        self.memo = dict(decision.memo)  # journaled before any action is submitted (write-ahead)
        submitted: list = []
        for action, refusal in review(decision.actions, view, self.plan):
            if isinstance(action, Halt):
                self.finished = f"halted: {action.reason}"
                break
            if refusal is not None:
                if refusal.policy == "skew" and self.scenario.safety:
                    self.breaches.append(Breach("skew", f"the strategy asked for {action.describe()}, which the "
                                                        f"version-skew policy refused: {refusal.reason}", view.observed_at))
                if self.scenario.safety:
                    continue
            if submit_at_most is not None and len(submitted) >= submit_at_most:
                return decision  # the operator died here; the rest of this decision is lost
            why = repeated(action, view, submitted)
            if why:
                self.breaches.append(Breach("repeat", f"{action.describe()} applied again: {why}", view.observed_at))
            submitted.append(action)
            self.port.submit(action)
        if decision.done and not self.finished:
            self.finished = "done"
        return decision

    def _run_for(self, seconds: float) -> None:
        self.world.env.run(until=self.world.env.now + seconds)

    def _wait(self, decision) -> None:
        """As the runner waits after a decision: one reconcile interval, then until the cluster changes,
        the decision's wake-up time or a resync."""
        env = self.world.env
        until = min(env.now + RESYNC_S, decision.wake_at if decision.wake_at is not None else env.now + RESYNC_S)
        self._run_for(self.world.timing.reconcile_interval_s)
        if not self.world.dirty and until > env.now:
            env.run(until=env.any_of([self.world.changed(), env.timeout(until - env.now)]))

    @precondition(lambda self: not self.finished)
    @rule()
    def decide(self) -> None:
        self._wait(self._decide())

    @rule(seconds=st.integers(1, 900))
    def advance(self, seconds: int) -> None:
        self._run_for(min(seconds, self.max_advance_s))

    @precondition(lambda self: not self.finished)
    @rule(submitted=st.integers(0, 3))
    def crash_operator(self, submitted: int) -> None:
        decision = self._decide(submit_at_most=submitted)
        self.operator = build_strategy(self.spec)  # a new process: nothing survives but the journal's memo
        self._wait(decision)

    @rule(data=st.data(), down_s=st.none() | st.integers(30, 900))
    def crash_node(self, data, down_s) -> None:
        alive = sorted((n for n in self.world.nodes.values() if n.alive), key=lambda n: natural_key(n.name))
        if alive:
            node = data.draw(st.sampled_from(alive), label="node")
            self.world.node_ops.crash(node, down_s)

    @rule(data=st.data(), down_s=st.integers(10, 300))
    def crash_apiserver(self, data, down_s) -> None:
        up = [i for i in self.world.cp.of("kube-apiserver") if i.running and i.healthy]
        if up:
            inst = data.draw(st.sampled_from(sorted(up, key=lambda i: i.name)), label="apiserver")
            self.world.env.process(self._apiserver_down(inst, down_s))

    def _apiserver_down(self, inst, down_s: float):
        inst.healthy = False
        self.world.cp.refresh()
        yield self.world.env.timeout(down_s)
        inst.healthy = True
        self.world.cp.refresh()

    # -- the reference model ---------------------------------------------------------------
    def _versions(self) -> dict[str, object]:
        out: dict[str, object] = {f"node/{n.name}": n.kubelet for n in self.world.nodes.values()}
        out.update({f"instance/{i.name}": i.version for i in self.world.cp.instances.values()})
        out.update({f"addon/{name}": a["version"] for name, a in self.world.addon_ops.addons.items()})
        return out

    @invariant()
    def versions_only_move_forward(self) -> None:
        now = self._versions()
        back = [f"{k} went from {self.seen[k]} back to {v}" for k, v in sorted(now.items())
                if k in self.seen and v < self.seen[k]]
        assert not back, "; ".join(back)
        self.seen.update(now)

    @invariant()
    def no_voluntary_disruption_below_a_budget(self) -> None:
        if not self.forced:
            assert self.world.rec.counters["pdb_violations"] == 0, (
                f"{self.world.rec.counters['pdb_violations']} voluntary disruption(s) took a workload below its budget")

    @invariant()
    def no_skew_violation(self) -> None:
        assert not self.world.rec.skew, "; ".join(f"{t:.1f}s {rule}: {why}" for t, rule, why in self.world.rec.skew)
        assert not [b for b in self.breaches if b.invariant == "skew"], "; ".join(
            b.describe() for b in self.breaches if b.invariant == "skew")

    @invariant()
    def no_action_applied_twice(self) -> None:
        repeats = [b.describe() for b in self.breaches if b.invariant == "repeat"]
        assert not repeats, "; ".join(repeats)
