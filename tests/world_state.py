"""What two runs are compared on when only their timing should differ."""

from collections import Counter


def final_state(world):
    """The cluster a run leaves: nodes, control-plane instances and add-ons."""
    nodes = sorted((n.name, n.pool, n.zone, str(n.kubelet), str(n.kube_proxy), n.ip, n.ready, n.schedulable, n.phase)
                   for n in world.nodes.values())
    cp = sorted((i.name, str(i.version), i.running) for i in world.cp.instances.values())
    addons = sorted((name, str(a["version"])) for name, a in world.addon_ops.addons.items())
    return nodes, cp, addons


def applied(result):
    """How many times each action (with its detail) was applied."""
    return Counter((e.action, e.detail) for e in result.log if e.kind == "action")
