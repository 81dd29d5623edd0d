"""Ranks keep the keys' order in floats; the by-name lists sorted by them follow a renumbering; a snapshot of
a list handed to a view reads what the list held when it was handed, however late it is read."""

from fractions import Fraction

from models.snapshot import Snapshot, Snapshots, read
from sim.adapters.ordered import SMALL, SPACING, Ordered, Ranks


def test_ranks_follow_the_keys_order_wherever_a_key_comes_in():
    ranks = Ranks()
    given = {}
    for key in [("b", 2), ("d", 4), ("a", 1), ("c", 3), ("e", 5), ("bb", 2)]:
        rank, remap = ranks.add(key)
        assert remap is None
        given[key] = rank
    assert given[("b", 2)] == SPACING  # the first key
    assert given[("d", 4)] == 2 * SPACING  # after the last
    assert given[("a", 1)] == 0.0  # before the first
    assert given[("c", 3)] == 1.5 * SPACING  # between its neighbours
    assert given[("bb", 2)] == 1.25 * SPACING
    assert sorted(given, key=given.get) == sorted(given)
    ranks.drop(given[("c", 3)])
    rank, _ = ranks.add(("c", 3))
    assert rank == 1.625 * SPACING  # between its neighbours now: bb and d


def test_ranks_spread_out_again_when_no_float_is_left_between_two_neighbours():
    ranks = Ranks()
    ranks.add(Fraction(0))
    ranks.add(Fraction(1))
    given = {Fraction(0): SPACING, Fraction(1): 2 * SPACING}
    lists = Ordered()
    for key, rank in given.items():
        lists.put(rank, str(key))
    key, remaps = Fraction(1), 0
    for _ in range(80):  # each new key just above the first: halves the gap every time
        key = key / 2
        rank, remap = ranks.add(key)
        if remap is not None:
            remaps += 1
            assert sorted(remap.values()) == [SPACING * (i + 1) for i in range(len(given))]
            given = {k: remap[r] for k, r in given.items()}
            lists.renumber(remap)
        given[key] = rank
        lists.put(rank, str(key))
    assert remaps == 1  # 1024 halves about 53 times before two neighbours have no float between them
    assert sorted(given, key=given.get) == sorted(given)
    assert list(records(lists)) == [str(k) for k in sorted(given)]
    assert lists.keys == sorted(given.values())


def records(lists: Ordered) -> tuple:
    """What a view reads of the list (a short one's tuple, a long one's snapshot made a tuple)."""
    return read({"it": lists.snapshot()}, "it", ())


def test_ordered_replaces_a_record_where_it_stands_and_takes_one_away():
    lists = Ordered()
    for rank, record in [(2.0, "b"), (1.0, "a"), (3.0, "c")]:
        lists.put(rank, record)
    assert lists.snapshot() == ("a", "b", "c")  # short: a tuple at once, the same one until it changes
    assert lists.snapshot() is lists.snapshot()
    lists.put(2.0, "B")
    assert records(lists) == ("a", "B", "c")
    lists.take(1.0)
    assert records(lists) == ("B", "c")
    assert len(lists) == 2


def _long(extra: int = 0) -> Ordered:
    """A list long enough to be handed as a snapshot: SMALL + 1 records r-0 ... (ranks 10, 20, ...)."""
    lists = Ordered()
    for k in range(SMALL + 1 + extra):
        lists.put(10.0 * (k + 1), f"r-{k}")
    return lists


def test_a_snapshot_still_held_keeps_the_records_of_when_it_was_taken():
    lists = _long()
    kept = lists.snapshot()
    assert isinstance(kept, Snapshot)
    before = tuple(lists.items)
    assert lists.snapshot() is kept  # unchanged: the same one
    lists.put(15.0, "r-0.5")  # changes the list: the snapshot held is frozen first, as it was
    lists.put(20.0, "R-1")
    assert kept.get() == before
    assert lists.snapshot() is not kept
    assert records(lists)[:3] == ("r-0", "r-0.5", "R-1")


def test_a_snapshot_let_go_costs_no_copy_and_one_read_late_reads_its_own_time():
    lists = _long()
    snap = lists.snapshot()
    del snap  # nobody holds it: the next change edits the list in place, nothing is copied
    items = lists.items
    lists.put(5.0, "r-first")
    assert lists.items is items and lists._handed is None
    late = lists.snapshot()  # handed out, not read yet
    lists.take(5.0)
    assert records(lists)[0] == "r-0"
    assert late.get()[:2] == ("r-first", "r-0") and len(late.get()) == SMALL + 2


def test_read_makes_a_snapshot_a_tuple_once_and_keeps_it_in_its_place():
    lists = _long()
    table = {"p": lists.snapshot(), "q": Snapshots({"1.30": lists.snapshot()}), "s": ("a",)}
    assert read(table, "p", ()) == tuple(lists.items)
    assert table["p"].__class__ is tuple
    assert read(table, "q", {}) == {"1.30": tuple(lists.items)}
    assert table["q"].__class__ is dict
    assert read(table, "s", ()) == ("a",)  # a short list's tuple is read as it is
    mixed = {"m": Snapshots({"1.29": ("x",), "1.30": _long().snapshot()})}  # a short list beside a long one
    assert read(mixed, "m", {}) == {"1.29": ("x",), "1.30": tuple(f"r-{k}" for k in range(SMALL + 1))}
    assert read(table, "r", ()) == ()
