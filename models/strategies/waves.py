"""Rolling in waves and within windows: the knobs every built-in strategy shares for *when* work starts.

- ``poolOrder``: the pools roll one after another in this order (those not listed follow, in
  the scenario's order), as fleet and rollout tools order their waves.
- ``poolSoakSeconds`` and ``promotionGate``: after a pool's roll, wait, then start the next
  pool only while the cluster is healthy (every node Ready, every workload at its budget: the
  previous wave's expectations hold); halt if it is not within ``validateTimeout``.
- ``canary`` and ``canarySoakSeconds``: each pool's roll starts with one node alone; the rest
  follow after the soak, once the cluster is healthy (OpenShift's canary rollout through a
  small machine config pool; GKE blue-green's first batch and its soak).
- ``maintenanceWindows``: ``models.strategies.windows``.

State lives in the memo: ``waves`` for the pools started and finished in the current roll.
"""

from __future__ import annotations

from models.state import ClusterState, NodePool
from models.strategies.workers import VALIDATE_RECHECK_S, healthy


def pools_in_order(view: ClusterState, params: dict) -> list[NodePool]:
    """The pools in the order they roll: ``poolOrder`` first, then the rest as the scenario lists them."""
    order = list(params.get("poolOrder") or ())
    rank = {name: i for i, name in enumerate(order)}
    return sorted(view.pools, key=lambda p: (rank.get(p.name, len(order)), [q.name for q in view.pools].index(p.name)))


class Waves:
    """The soak and the promotion gate between two pools of a roll."""

    def __init__(self, view: ClusterState, memo: dict, params: dict, roll: str):
        self.view = view
        self.now = view.observed_at
        self.params = params
        state = dict(memo.get("waves", {}))
        if state.get("roll") != roll:
            state = {"roll": roll, "started": [], "finished": {}}
        self.state = {"roll": roll, "started": list(state["started"]), "finished": dict(state["finished"])}
        memo["waves"] = self.state  # the decision's memo carries it, whatever the strategy returns
        self.note = ""
        self.wake_at: float | None = None

    def finished(self, pool: str) -> None:
        if pool in self.state["started"] and pool not in self.state["finished"]:
            self.state["finished"][pool] = self.now

    def hold(self, pool: str) -> bool | str:
        """May ``pool`` take its first step? True, False (wait: see ``note``, ``wake_at``), or a halt reason."""
        if pool in self.state["started"]:
            return True
        done = self.state["finished"]
        if done:
            last = max(done, key=lambda p: (done[p], p))
            until = done[last] + self.params.get("poolSoakSeconds", 0.0)
            if self.now < until:
                self.note, self.wake_at = f"soaking after pool {last} until {until:.0f}s before pool {pool}", until
                return False
            if self.params.get("promotionGate"):
                problem = healthy(self.view)
                if problem:
                    if self.now >= until + self.params["validateTimeout"]:
                        return (f"promotion gate: the cluster was not healthy within "
                                f"{self.params['validateTimeout']:g}s after pool {last}'s roll: {problem}")
                    self.note = f"promotion gate before pool {pool}: {problem}"
                    self.wake_at = self.now + VALIDATE_RECHECK_S
                    return False
        self.state["started"].append(pool)
        return True
