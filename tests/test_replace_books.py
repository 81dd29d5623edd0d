"""A replacing strategy finds the old nodes on its way out by name when they are few, and in the pool's
order otherwise: both must give what a pass over the pool's old nodes gives."""

from models.state import ClusterState, Node, Resources
from models.strategies.replace import Books, Replace
from models.version import KubeVersion

OLD, NEW = KubeVersion.parse("1.29.4"), KubeVersion.parse("1.29.8")


def view(names, kubelet=OLD, deleting=()):
    nodes = tuple(Node(n, "p", "a", kubelet, kubelet, Resources(1000, 2**30, 10),
                       phase="deleting" if n in deleting else "idle") for n in names)
    return ClusterState(None, (), nodes)


def books(removing, skipped=()):
    return Books(set(removing), set(skipped), {}, {}, {}, {})


def old_nodes(v):
    return [n for n in v.nodes_in_name_order("p") if n.phase != "deleting"]


def test_few_on_their_way_out_are_found_by_name_in_the_pools_order():
    v = view([f"p-{i}" for i in range(1, 21)], deleting=("p-3",))
    strategy = Replace(maxSurge=1, maxUnavailable=0)
    found = strategy.in_removal(v, "p", old_nodes(v), books({"p-12", "p-2", "p-3", "gone-1"}), NEW)
    assert [n.name for n in found] == ["p-2", "p-12"]  # p-3 is being deleted, gone-1 is not in the view


def test_many_on_their_way_out_or_names_equal_as_numbers_take_the_pools_order():
    v = view(["w-1", "w-01", "w-2", "w-3", "w-4", "w-5", "w-6", "w-7", "w-8"])
    strategy = Replace(maxSurge=1, maxUnavailable=0)
    old = old_nodes(v)
    # w-1 and w-01 are equal as numbers: the pool's own order (made order among equals) decides
    assert [n.name for n in strategy.in_removal(v, "p", old, books({"w-01", "w-1"}), NEW)] == ["w-1", "w-01"]
    many = {"w-8", "w-2", "w-5"}
    assert [n.name for n in strategy.in_removal(v, "p", old, books(many), NEW)] == ["w-2", "w-5", "w-8"]
    # skipped nodes are not old ones (old_and_new leaves them out of ``old``): by name they are left out too
    unskipped = [n for n in old if n.name != "w-5"]
    assert [n.name for n in strategy.in_removal(v, "p", unskipped, books(many, skipped={"w-5"}), NEW)] == ["w-2", "w-8"]
    few = view([f"q-{i}" for i in range(1, 13)])
    q_old = [n for n in old_nodes(few) if n.name != "q-7"]
    assert [n.name for n in strategy.in_removal(few, "p", q_old, books({"q-9", "q-7"}, skipped={"q-7"}), NEW)] \
        == ["q-9"]
