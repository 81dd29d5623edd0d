"""Waves and windows (docs/strategies.md, "Waves and windows"): pools in an order with a soak and a
promotion gate between them, a canary node first, and maintenance windows in UTC outside which no
new batch starts; and the cron schedules behind the windows. The rehearsal starts at the
default startTime, Monday 2026-01-05 10:00 UTC; the control plane is done at 375 s and an
in-place node takes 22 s (tests/fidelity_scenario.py)."""

from datetime import datetime, timezone

import pytest

from models.schedule import Cron, Window
from tests.fidelity_scenario import run

POOLS = "cluster.nodePools=[{name: a, count: 2, zones: [a, b]}, {name: b, count: 2, zones: [a, b]}]"


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp()


def steps(r, kinds=("Cordon", "Drain", "ProvisionNode", "UpgradeControlPlaneInstance")):
    return [(e.t, e.action) for e in r.log if e.kind == "action" and e.action.startswith(kinds)]


# -- cron schedules and windows (robfig/cron's standard parser, as Karpenter uses it) ----------------------


@pytest.mark.parametrize("schedule, after, hit", [
    ("0 2 * * SAT", "2026-01-05T10:00:00", "2026-01-10T02:00:00"),
    ("*/15 * * * *", "2026-01-05T10:07:30", "2026-01-05T10:15:00"),
    ("0 9 * * mon-fri", "2026-01-09T09:00:00", "2026-01-12T09:00:00"),  # strictly after: Friday's hit is not next
    ("@daily", "2026-01-05T10:00:00", "2026-01-06T00:00:00"),
    ("30 4 1,15 * *", "2026-01-05T10:00:00", "2026-01-15T04:30:00"),
    ("0 0 13 * FRI", "2026-01-05T10:00:00", "2026-01-09T00:00:00"),  # both days restricted: either matches
    ("0 12 * JUN *", "2026-01-05T10:00:00", "2026-06-01T12:00:00"),
], ids=["weekly-saturday", "every-15-minutes", "weekdays", "macro", "list-of-days", "day-or-weekday", "month-name"])
def test_a_schedule_hits_next_where_cron_says(schedule, after, hit):
    assert Cron.parse(schedule).next_after(at(after)) == at(hit)


@pytest.mark.parametrize("schedule, message", [
    ("0 2 * *", "schedule '0 2 * *' has 4 field(s); a schedule has five: minute hour day-of-month month "
                "day-of-week, in UTC (e.g. '0 2 * * SAT')"),
    ("61 * * * *", "minute 61 is out of range; valid: 0-59"),
    ("0 2 * * FUNDAY", "day of week 'FUNDAY' is not a number; valid: 0-6 or SUN-SAT"),
    ("0 0 30 2 *", "schedule '0 0 30 2 *' never hits (no such day)"),
    ("@fortnightly", "unknown schedule macro '@fortnightly'; valid: @yearly, @annually, @monthly, @weekly, @daily, "
                     "@midnight, @hourly"),
], ids=["four-fields", "minute-out-of-range", "unknown-day", "30-february", "unknown-macro"])
def test_a_bad_schedule_says_what_would_be_valid(schedule, message):
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(").replace(")", r"\)").replace("*", r"\*")
                       .replace("+", r"\+") + "$"):
        Cron.parse(schedule)


@pytest.mark.parametrize("now, open_, opens", [
    ("2026-01-10T01:59:00", False, "2026-01-10T02:00:00"),
    ("2026-01-10T02:00:00", True, "2026-01-10T02:00:00"),
    ("2026-01-10T05:59:00", True, "2026-01-10T05:59:00"),
    ("2026-01-10T06:00:00", False, "2026-01-17T02:00:00"),  # open for 4 h from each hit, not 4 h and a minute
], ids=["before", "at-the-hit", "last-minute", "closed-at-the-duration"])
def test_a_window_is_open_for_its_duration_after_each_hit(now, open_, opens):
    w = Window(Cron.parse("0 2 * * SAT"), 4 * 3600)
    assert (w.is_open(at(now)), w.next_opening(at(now))) == (open_, at(opens))


# -- maintenance windows --------------------------------------------------------------------------------------


def test_a_window_holds_back_the_next_batch_until_it_opens():
    # open the first 7 minutes of every hour: nodes 1 and 2 start by 399 s; node 3 would start at 421 s, after
    # the window closed at 10:07, so it waits for 11:00 (3600 s)
    r = run("i", "strategies=[{name: inplace, label: i, maintenanceWindows: [{schedule: '0 * * * *', duration: 7m}]}]")
    assert r.completed
    assert steps(r, ("Cordon",)) == [(375.0, "Cordon node/general-1"), (399.0, "Cordon node/general-2"),
                                     (3600.0, "Cordon node/general-3")]


def test_the_control_plane_waits_for_a_window_too():
    r = run("i", "strategies=[{name: inplace, label: i, maintenanceWindows: [{schedule: '0 2 * * SAT', duration: 4h}]}]",
            "startTime=2026-01-10T01:00:00Z")
    assert steps(r)[0] == (3600.0, "UpgradeControlPlaneInstance kube-apiserver-0 to 1.31.2")


# -- pools in waves ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("knobs, cordons", [
    # with four nodes the control plane and kube-proxy are done at 380 s
    ("", [(380.0, "a-1"), (404.0, "a-2"), (428.0, "b-1"), (452.0, "b-2")]),
    ("poolOrder: [b]", [(380.0, "b-1"), (404.0, "b-2"), (428.0, "a-1"), (452.0, "a-2")]),
    ("poolOrder: [b, a], poolSoakSeconds: 5m", [(380.0, "b-1"), (404.0, "b-2"), (728.0, "a-1"), (752.0, "a-2")]),
    ("poolSoakSeconds: 5m, promotionGate: true", [(380.0, "a-1"), (404.0, "a-2"), (728.0, "b-1"), (752.0, "b-2")]),
], ids=["scenario-order", "listed-pools-first", "soak-between-pools", "promotion-gate-after-the-soak"])
def test_pools_roll_in_waves(knobs, cordons):
    r = run("i", POOLS, "strategies=[{name: inplace, label: i" + (f", {knobs}" if knobs else "") + "}]")
    assert r.completed
    assert steps(r, ("Cordon",)) == [(t, f"Cordon node/{n}") for t, n in cordons]


def test_the_promotion_gate_halts_when_the_last_wave_leaves_the_cluster_unhealthy():
    r = run("i", POOLS, "strategies=[{name: inplace, label: i, poolSoakSeconds: 1m, promotionGate: true, "
                        "validateTimeout: 2m}]", "faults=[{type: node-crash, target: node/a-1, at: 430s}]")
    assert r.halted == ("promotion gate: the cluster was not healthy within 120s after pool a's roll: node a-1 is "
                        "NotReady")


# -- a canary node first -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("strategy, first", [
    ("{name: inplace, label: s, maxUnavailable: 2, canary: true, canarySoakSeconds: 2m}",
     [(375.0, "Cordon node/general-1"), (517.0, "Cordon node/general-2"), (517.0, "Cordon node/general-3")]),
    ("{name: replace, label: s, maxSurge: 2, maxUnavailable: 0, canary: true, canarySoakSeconds: 2m}",
     [(435.0, "Drain node/general-1"), (561.0, "Drain node/general-2"), (561.0, "Drain node/general-3")]),
    ("{name: surge, label: s, maxSurge: 2, maxUnavailable: 0, canary: true, canarySoakSeconds: 2m}",
     [(435.0, "Drain node/general-1"), (649.0, "Drain node/general-2"), (649.0, "Drain node/general-3")]),
    ("{name: bluegreen, label: s, drainBatch: 2, canary: true, canarySoakSeconds: 2m, finalSoakSeconds: 1m}",
     [(437.0, "Drain node/general-1"), (561.0, "Drain node/general-2"), (561.0, "Drain node/general-3")]),
], ids=["inplace", "replace", "surge", "bluegreen"])
def test_a_canary_node_goes_alone_and_the_rest_follow_after_its_soak(strategy, first):
    r = run("s", f"strategies=[{strategy}]")
    assert r.completed
    assert steps(r, ("Cordon", "Drain"))[-3:] == first
