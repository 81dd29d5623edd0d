"""Ranks keep the keys' order in floats; the by-name lists sorted by them follow a renumbering; a snapshot of
a list handed to a view reads what the list held when it was handed, however late it is read."""

from fractions import Fraction

from models.snapshot import Snapshots, read
from sim.adapters.ordered import SPACING, Ordered, Ranks


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
    assert list(lists.snapshot().get()) == [str(k) for k in sorted(given)]
    assert lists.keys == sorted(given.values())


def test_ordered_replaces_a_record_where_it_stands_and_takes_one_away():
    lists = Ordered()
    for rank, record in [(2.0, "b"), (1.0, "a"), (3.0, "c")]:
        lists.put(rank, record)
    assert lists.snapshot().get() == ("a", "b", "c")
    lists.put(2.0, "B")
    assert lists.snapshot().get() == ("a", "B", "c")
    lists.take(1.0)
    assert lists.snapshot().get() == ("B", "c")
    assert len(lists) == 2


def test_a_snapshot_still_held_keeps_the_records_of_when_it_was_taken():
    lists = Ordered()
    lists.put(1.0, "a")
    lists.put(2.0, "b")
    kept = lists.snapshot()
    assert lists.snapshot() is kept  # unchanged: the same one
    lists.put(1.5, "ab")  # changes the list: the snapshot held is frozen first, as it was
    lists.put(2.0, "B")
    assert kept.get() == ("a", "b")
    assert lists.snapshot() is not kept
    assert lists.snapshot().get() == ("a", "ab", "B")


def test_a_snapshot_let_go_costs_no_copy_and_one_read_late_reads_its_own_time():
    lists = Ordered()
    lists.put(1.0, "a")
    snap = lists.snapshot()
    del snap  # nobody holds it: the next change edits the list in place, nothing is copied
    items = lists.items
    lists.put(2.0, "b")
    assert lists.items is items and lists._handed is None
    late = lists.snapshot()  # handed out, not read yet
    lists.take(1.0)
    assert lists.snapshot().get() == ("b",)
    assert late.get() == ("a", "b")


def test_read_makes_a_snapshot_a_tuple_once_and_keeps_it_in_its_place():
    lists = Ordered()
    lists.put(1.0, "a")
    table = {"p": lists.snapshot(), "q": Snapshots({"1.30": lists.snapshot()})}
    assert read(table, "p", ()) == ("a",)
    assert table["p"] == ("a",) and table["p"].__class__ is tuple
    assert read(table, "q", {}) == {"1.30": ("a",)}
    assert table["q"].__class__ is dict
    assert read(table, "r", ()) == ()
