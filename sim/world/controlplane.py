"""The control plane: apiservers behind a load balancer, and leader election.

The API is up while at least one running, healthy apiserver is reachable through the
load balancer. kube-controller-manager and kube-scheduler each have one leader; when
the leader stops, another instance takes over after the lease duration (15 s by
default); while the API is down nobody can hold a lease. Upgrading an instance stops
it, replaces it (the scenario's ``controlPlaneInstance`` duration) and starts it.
"""

from __future__ import annotations

from models.state import APISERVER, CONTROLLER_MANAGER, IDLE, SCHEDULER, UPGRADING
from sim.sampling import sample
from sim.world.entities import SimInstance

RETRY_PERIOD_S = 2.0  # leader election retry period (component-base defaults)


class ControlPlaneSim:
    def __init__(self, world, instances: list[SimInstance]):
        self.world = world
        self.instances = {i.name: i for i in instances}
        self.api_up = True
        self.leaders: dict[str, str | None] = {}
        # the controller-manager leader's term: bumps whenever that leader changes or goes; and when it began
        # (a new leader's node lifecycle controller has no heartbeat times yet: it counts from its start)
        self.kcm_term = 0
        self.kcm_since = 0.0
        self._election_gen = {CONTROLLER_MANAGER: 0, SCHEDULER: 0}
        self._pending = {CONTROLLER_MANAGER: False, SCHEDULER: False}
        self._waiters: dict[str, list] = {"controllers": [], "scheduler": []}
        for component in (CONTROLLER_MANAGER, SCHEDULER):
            running = self._candidates(component)
            self.leaders[component] = running[0].name if running else None
        self.lb_blocks_upgraded = False  # lb-listener-misconfigured: upgraded instances unreachable
        self.api_up = self._compute_api_up()

    # -- state ---------------------------------------------------------------------------
    def of(self, component: str) -> list[SimInstance]:
        return [i for i in self.instances.values() if i.component == component]

    def oldest_apiserver(self):
        return min(i.version for i in self.of(APISERVER))

    def controller_manager_leader(self) -> SimInstance | None:
        """The kube-controller-manager that leads (None while there is none, or no API)."""
        name = self.leaders.get(CONTROLLER_MANAGER) if self.api_up else None
        return self.instances[name] if name else None

    def reachable(self, inst: SimInstance) -> bool:
        lb = self.world.cloud.load_balancer
        if not (lb.healthy and any(listener.healthy for listener in lb.listeners)):
            return False
        if self.lb_blocks_upgraded and inst.version > self.world.start_version:
            return False
        return inst.running and inst.healthy

    def _compute_api_up(self) -> bool:
        return any(self.reachable(i) for i in self.of(APISERVER))

    @property
    def controllers_available(self) -> bool:
        return self.api_up and self.leaders.get(CONTROLLER_MANAGER) is not None

    @property
    def scheduler_available(self) -> bool:
        return self.api_up and self.leaders.get(SCHEDULER) is not None

    def when_controllers_available(self):
        return self._waiter("controllers")

    def when_scheduler_available(self):
        return self._waiter("scheduler")

    def _waiter(self, what: str):
        ev = self.world.env.event()
        self._waiters[what].append(ev)
        return ev

    def _release_waiters(self) -> None:
        for what, ok in (("controllers", self.controllers_available), ("scheduler", self.scheduler_available)):
            if ok:
                waiters, self._waiters[what] = self._waiters[what], []
                for ev in waiters:
                    if not ev.triggered:
                        ev.succeed()

    # -- changes -------------------------------------------------------------------------
    def refresh(self) -> None:
        """Recompute API availability and leadership after any control-plane change."""
        world = self.world
        up = self._compute_api_up()
        if up != self.api_up:
            self.api_up = up
            world.rec.api(world.env.now, up)
            if not up:  # nobody can renew a lease without the API
                for component in self.leaders:
                    if component == CONTROLLER_MANAGER and self.leaders[component] is not None:
                        self.kcm_term += 1
                    self.leaders[component] = None
                    self._cancel(component)
        for component, leader in self.leaders.items():
            inst = self.instances.get(leader) if leader else None
            if leader is not None and not inst.running:
                self.leaders[component] = None
                if component == CONTROLLER_MANAGER:
                    self.kcm_term += 1
                self._schedule(component, world.timing.leader_lease_s)  # the old lease must expire
            elif leader is None and not self._pending[component] and self.api_up and self._candidates(component):
                self._schedule(component, RETRY_PERIOD_S)
        self._release_waiters()
        world.touch_control_plane()

    def _candidates(self, component: str) -> list[SimInstance]:
        return sorted((i for i in self.of(component) if i.running and i.healthy), key=lambda i: i.name)

    def _cancel(self, component: str) -> None:
        self._election_gen[component] += 1
        self._pending[component] = False

    def _schedule(self, component: str, delay: float) -> None:
        self._cancel(component)
        self._pending[component] = True
        self.world.env.process(self._elect(component, self._election_gen[component], delay))

    def _elect(self, component: str, gen: int, delay: float):
        yield self.world.env.timeout(delay)
        if gen != self._election_gen[component]:
            return
        self._pending[component] = False
        candidates = self._candidates(component)
        if self.api_up and candidates:
            self.leaders[component] = candidates[0].name
            if component == CONTROLLER_MANAGER:
                self.kcm_term += 1
                self.kcm_since = self.world.env.now
                self.world.node_ops.monitor_started()
            self._release_waiters()
            self.world.touch_control_plane()

    # -- actions -------------------------------------------------------------------------
    def upgrade(self, name: str, version, surge: bool = False) -> None:
        inst = self.instances[name]
        inst.phase = UPGRADING
        self.world.env.process(self._upgrade(inst, version, surge))
        self.world.touch_control_plane()

    def _upgrade(self, inst: SimInstance, version, surge: bool):
        world = self.world
        if not surge:
            inst.running = False
            self.refresh()
        dist = world.timing.control_plane_instance if inst.component == APISERVER else world.timing.controller_instance
        yield world.env.timeout(sample(dist, world.rng))
        if surge and inst.component != APISERVER:
            # the new instance is up and the old one stops: a leader's lease must still expire
            inst.running = False
            self.refresh()
        inst.version = version  # an apiserver's replacement simply takes over behind the load balancer
        inst.running = True
        inst.phase = IDLE
        self.refresh()
        world.versions_changed(apiserver=inst.component == APISERVER)
