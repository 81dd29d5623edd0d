"""What the simulated cluster does when a pre-check finding is ignored (``prechecks: ignore``).

- a CNI release that does not support the kubelet version a node is upgraded to (or a new
  node joins with) leaves that node NotReady;
- a load-balancer listener whose backend is not the apiserver port hides upgraded
  apiservers (they re-register behind it and are unreachable);
- a node whose runtime is ``docker://`` fails its in-place kubelet upgrade to 1.24+;
- an unavailable APIService degrades an upgraded controller-manager: its controllers
  act only after a delay (partial discovery, retried) — midair's model of it;
- a node whose clock is not synchronised flaps: now and then its kubelet's status
  updates are rejected long enough for the node to turn NotReady.
(A node whose kubelet or container runtime is not running starts NotReady: ``World``.)
No free IP failing a provisioning is the cloud's own doing (``sim.world.cloud``).
"""

from __future__ import annotations

from models import compat
from models.version import KubeVersion
from sim.sampling import sample
from models.timing import Dist

APISERVER_PORT = 6443
DEGRADED_CONTROLLER_DELAY_S = 60.0
FLAP_EVERY = Dist("uniform", (300.0, 900.0))
FLAP_FOR = Dist("uniform", (45.0, 90.0))


class Consequences:
    def __init__(self, world, state):
        self.world = world
        cni = state.addon("cni")
        self.cni = (cni.flavor, cni.version) if cni is not None and cni.flavor else None
        self.apiservices_down = [s.name for s in state.api_services if not s.available]
        self.listener_misrouted = any(l.backend_port != APISERVER_PORT for l in state.cloud.load_balancer.listeners)
        self.flapping: set[str] = set()
        # The versions the nodes run now work with this CNI, tested range or not: the scenario
        # describes them as they are. Only a version a node is upgraded to can break it.
        self._cni_ok: dict[KubeVersion, bool] = {n.kubelet: True for n in state.nodes}

    def start(self) -> None:
        world = self.world
        if self.listener_misrouted:
            world.cp.lb_blocks_upgraded = True
        for node in sorted(world.nodes.values(), key=lambda n: n.seq):
            cfg = node.config
            if cfg is not None and not cfg.ntp_synced:
                world.env.process(self._flap(node))

    def posting(self, node) -> bool:
        """Are the node's status updates accepted? (No while its clock is off.)"""
        return node.name not in self.flapping

    def reports_ready(self, node) -> bool:
        """Does the kubelet report Ready? (No when the CNI does not support its version.)"""
        if self.cni is None:
            return True
        if node.kubelet not in self._cni_ok:
            self._cni_ok[node.kubelet] = compat.cni_supports(self.cni[0], self.cni[1], node.kubelet) is not False
        return self._cni_ok[node.kubelet]

    def kubelet_start_problem(self, node, version: KubeVersion) -> str | None:
        removed = compat.runtime_change("dockershim-removed").version
        if node.runtime.startswith("docker://") and version >= removed:
            return f"kubelet {version} does not start: dockershim was removed in {removed} and the runtime is {node.runtime}"
        return None

    def controller_delay(self) -> float:
        """Extra time before the controllers act, while an upgraded controller-manager leads."""
        if not self.apiservices_down:
            return 0.0
        cp = self.world.cp
        leader = cp.instances.get(cp.leaders.get("kube-controller-manager") or "")
        if leader is not None and leader.version.minor_release > self.world.start_version.minor_release:
            return DEGRADED_CONTROLLER_DELAY_S
        return 0.0

    def _flap(self, node):
        world = self.world
        while not node.removed:
            yield world.env.timeout(sample(FLAP_EVERY, world.rng))
            self.flapping.add(node.name)
            world.node_ops.refresh(node)
            yield world.env.timeout(sample(FLAP_FOR, world.rng))
            self.flapping.discard(node.name)
            world.node_ops.refresh(node)
