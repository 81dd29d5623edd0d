"""Fault injection: the scenario's ``faults:`` list, applied to the world from a seeded stream.

Scheduled faults (``at``) and Poisson ones (``rate`` per hour) run as processes; faults
with a ``probability`` are drawn at each opportunity the world offers (an in-place
upgrade, a new node, a pod start, a decision of the operator); window faults (quota,
subnets, slow pulls, a misconfigured listener, a stuck budget) hold from ``at`` for
``duration``. Every draw comes from the run's own ``faults`` stream, so a run is
reproducible from its seed. Which fields each type takes: ``sim.scenario.faults``.

Faults belong to the upgrade: once it has ended (``stop``), no scheduled or Poisson fault
fires and no window opens, so the watch after it measures the upgrade's own late
consequences. Faults drawn per opportunity still apply to what the upgrade left in
motion (a rescheduled pod starting after the last node is done).
"""

from __future__ import annotations

import math
import random

from models.state import DELETING, PROVISION_FAILED, PROVISIONING
from sim.sampling import sample

OPERATOR_DELAY_S = 60.0
APISERVER_DOWN_S = 60.0
DEFAULT_STEP = 2  # replaceBinaries: the half-replaced kubelet of the seed's warning


class Faults:
    def __init__(self, world, specs, rng: random.Random):
        self.world = world
        self.specs = tuple(specs)
        self._kinds: dict[str, tuple] = {}
        self.rng = rng
        self.fired = {f.index: 0 for f in self.specs}
        self._windows: dict[int, float] = {}
        self.on_operator_crash = None  # set by the run: a callable(delay_s)
        self.ended_at: float | None = None
        self.stuck_pdbs = self._of("stuck-pdb")  # asked at every eviction: most scenarios declare none

    def stop(self) -> None:
        """The upgrade has ended: no fault fires from now on."""
        self.ended_at = self.world.env.now

    # -- helpers -------------------------------------------------------------------------
    def _of(self, kind: str):
        found = self._kinds.get(kind)
        if found is None:  # asked at every eviction: the specs never change
            found = self._kinds[kind] = tuple(f for f in self.specs if f.type == kind)
        return found

    def _active(self, f) -> bool:
        now = self.world.env.now
        start = f.at or 0.0
        if self.ended_at is not None and start >= self.ended_at:
            return False
        return now >= start and (f.duration is None or now < start + self._window(f))

    def _window(self, f) -> float:
        if f.index not in self._windows:
            self._windows[f.index] = sample(f.duration, self.rng)
        return self._windows[f.index]

    def _hits(self, f, **subject) -> bool:
        if f.target is None:
            return True
        kind, _, name = f.target.partition("/")
        value = subject.get(kind)
        if kind == "workload":
            return value is not None and name in (value.spec.name, value.key)
        return value == name

    def _draw(self, f, probability: float | None) -> bool:
        if f.limit is not None and self.fired[f.index] >= f.limit:
            return False
        p = 1.0 if probability is None else probability
        if p >= 1.0 or self.rng.random() < p:
            self.fired[f.index] += 1
            self.world.rec.event(self.world.env.now, f"fault {f.type} (faults[{f.index}]) fired")
            return True
        return False

    # -- scheduled and Poisson faults ----------------------------------------------------
    def start(self) -> None:
        for f in self.specs:
            if f.type in ("node-crash", "apiserver-crash", "operator-crash") and (f.at is not None or f.rate):
                self.world.env.process(self._schedule(f))
            elif f.type == "lb-listener-misconfigured":
                self.world.env.process(self._lb(f))

    def _arrivals(self, f):
        if f.at is not None:
            yield f.at
            return
        t = 0.0
        per_second = f.rate / 3600.0  # a rate too small for a float per second (5e-324/h) is never
        while True:
            t += self.rng.expovariate(per_second) if per_second > 0 else math.inf
            yield t

    def _schedule(self, f):
        env = self.world.env
        for t in self._arrivals(f):
            if t == math.inf or (f.limit is not None and self.fired[f.index] >= f.limit):
                return
            yield env.timeout(max(0.0, t - env.now))
            if self.ended_at is not None:
                return
            self.fired[f.index] += 1
            self.world.rec.event(env.now, f"fault {f.type} (faults[{f.index}]) fired")
            if f.type == "node-crash":
                node = self._pick_node(f)
                if node is not None:
                    self._crash_node(f, node)
            elif f.type == "apiserver-crash":
                self._crash_apiserver(f)
            elif f.type == "operator-crash" and self.on_operator_crash is not None:
                self.on_operator_crash(f.delay if f.delay is not None else OPERATOR_DELAY_S)

    def _pick_node(self, f):
        candidates = [n for n in sorted(self.world.nodes.values(), key=lambda n: n.seq)
                      if n.alive and n.phase not in (DELETING, PROVISIONING, PROVISION_FAILED)
                      and self._hits(f, node=n.name, pool=n.pool, zone=n.zone)]
        return self.rng.choice(candidates) if candidates else None

    def _crash_node(self, f, node) -> None:
        duration = sample(f.duration, self.rng) if f.duration is not None else None
        self.world.node_ops.crash(node, duration)

    def _crash_apiserver(self, f) -> None:
        cp = self.world.cp
        names = sorted(i.name for i in cp.of("kube-apiserver") if i.running and i.healthy)
        if f.target is not None:
            names = [n for n in names if n == f.target.partition("/")[2]]
        if not names:
            return
        inst = cp.instances[self.rng.choice(names)]
        down = sample(f.duration, self.rng) if f.duration is not None else APISERVER_DOWN_S
        self.world.env.process(self._apiserver_down(inst, down))

    def _apiserver_down(self, inst, down: float):
        inst.healthy = False
        self.world.cp.refresh()
        yield self.world.env.timeout(down)
        inst.healthy = True
        self.world.cp.refresh()

    def _lb(self, f):
        cp = self.world.cp
        yield self.world.env.timeout(f.at or 0.0)
        if self.ended_at is not None:
            return
        cp.lb_blocks_upgraded = True
        cp.refresh()
        if f.duration is not None:
            yield self.world.env.timeout(self._window(f))
            cp.lb_blocks_upgraded = False
            cp.refresh()

    # -- opportunities the world offers --------------------------------------------------
    def on_node_operation(self, node) -> None:
        """A drain or in-place upgrade starts on ``node``: it may crash now."""
        for f in self._of("node-crash"):
            if f.probability is not None and self._hits(f, node=node.name, pool=node.pool, zone=node.zone):
                if self._draw(f, f.probability):
                    self._crash_node(f, node)
                    return

    def inplace_step_fails(self, node, k: int, step: str) -> str | None:
        for f in self._of("inplace-step-failure"):
            if (f.step or DEFAULT_STEP) == k and self._hits(f, node=node.name, pool=node.pool):
                if self._draw(f, f.probability):
                    return f"in-place upgrade stopped after step {k} ({step}); the kubelet is half-replaced"
        return None

    def provision_fails(self, node) -> str | None:
        for f in self._of("provision-failure"):
            if self._hits(f, pool=node.pool, zone=node.zone) and self._draw(f, f.probability):
                return "the new machine never became a Ready node (provisioning failed)"
        return None

    def pod_fails_to_start(self, pod) -> bool:
        for f in self._of("pod-startup-failure"):
            node = pod.node
            if self._hits(f, workload=pod.workload, pool=node.pool if node else None) and self._draw(f, f.probability):
                return True
        return False

    def operator_decision(self) -> None:
        """The operator made a decision: with ``probability`` it crashes right after."""
        for f in self._of("operator-crash"):
            if f.probability is not None and self._draw(f, f.probability) and self.on_operator_crash is not None:
                self.on_operator_crash(f.delay if f.delay is not None else OPERATOR_DELAY_S)
                return

    # -- windows -------------------------------------------------------------------------
    def quota_exhausted(self) -> bool:
        return any(self._active(f) for f in self._of("quota-exhausted"))

    def subnet_exhausted(self, zone: str) -> bool:
        return any(self._active(f) and self._hits(f, zone=zone) for f in self._of("subnet-exhausted"))

    def image_pull_factor(self, pod=None) -> float:
        factor = 1.0
        for f in self._of("slow-image-pull"):
            node = pod.node if pod is not None else None
            subject = {"workload": pod.workload if pod else None, "node": node.name if node else None,
                       "pool": node.pool if node else None, "zone": node.zone if node else None}
            if self._active(f) and self._hits(f, **subject):
                factor *= f.factor
        return factor

    def pdb_stuck(self, workload) -> bool:
        return any(self._active(f) and self._hits(f, workload=workload) for f in self.stuck_pdbs)
