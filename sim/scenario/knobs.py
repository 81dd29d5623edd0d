"""The schema of the strategy knobs that are lists: ``poolOrder`` (pool names), ``maintenanceWindows``
(cron schedules in UTC with a duration) and Karpenter's ``budgets`` (nodes, an optional schedule
and duration, reasons), each checked into its records with every problem at its line."""

from __future__ import annotations

from dataclasses import dataclass

from models.karpenter import REASONS, Budget
from models.schedule import Cron, Window
from sim.scenario.schema import (
    INVALID,
    Duration,
    Enum,
    Field,
    IntOrPct,
    ListOf,
    Name,
    Obj,
    Spec,
    Str,
    broken,
)

WINDOW = Obj(name="window", fields={
    "schedule": Field(Str(example="0 2 * * SAT"), None, "when it opens: a cron schedule in UTC"),
    "duration": Field(Duration(), None, "how long it stays open"),
})
BUDGET = Obj(name="disruption budget", fields={
    "nodes": Field(IntOrPct(of="the pool's nodes"), None, "nodes that may be disrupting at once (percent rounds up)"),
    "schedule": Field(Str(example="0 9 * * mon-fri"), None, "when it becomes active: a cron schedule in UTC"),
    "duration": Field(Duration(), None, "how long it stays active after each hit of its schedule"),
    "reasons": Field(ListOf(item=Enum(choices=REASONS)), None, "the disruptions it limits (default: all)"),
})


def _window(raw: dict, path, ck, required: bool) -> Window | None | object:
    """A schedule and its duration: a maintenance window needs both, a budget both or neither (Karpenter
    requires each with the other)."""
    schedule, duration = raw["schedule"], raw["duration"]
    if schedule is None and duration is None and not required:
        return None
    for key, value in (("schedule", schedule), ("duration", duration)):
        if value is None:
            other = "duration" if key == "schedule" else "schedule"
            what = ("a maintenance window needs a schedule (cron, UTC) and a duration" if required else
                    f"a budget's {other} needs a {key} (give both, or neither for a budget always active)")
            return ck.fail(path + (key,), f"missing {key!r}: {what}")
    try:
        cron = Cron.parse(schedule)
    except ValueError as exc:
        return ck.fail(path + ("schedule",), str(exc))
    if duration <= 0:
        return ck.fail(path + ("duration",), "a window of 0s is never open; valid: a duration above 0, e.g. 4h")
    return Window(cron, duration)


@dataclass
class PoolList(Spec):
    def check(self, value, path, ck):
        names = ListOf(item=Name(example="general")).check(value, path, ck)
        if names is INVALID or broken(names):
            return INVALID
        for i, name in enumerate(names):
            if name in names[:i]:
                return ck.fail(path + (i,), f"pool {name} is listed twice")
        return tuple(names)

    def describe(self):
        return "list of pool names"


@dataclass
class Windows(Spec):
    def check(self, value, path, ck):
        items = ListOf(item=WINDOW).check(value, path, ck)
        if items is INVALID or broken(items):
            return INVALID
        out = [_window(w, path + (i,), ck, required=True) for i, w in enumerate(items)]
        return INVALID if INVALID in out else tuple(out)

    def describe(self):
        return "list of {schedule, duration}"


@dataclass
class Budgets(Spec):
    def check(self, value, path, ck):
        items = ListOf(item=BUDGET).check(value, path, ck)
        if items is INVALID or broken(items):
            return INVALID
        out = []
        for i, b in enumerate(items):
            if b["nodes"] is None:
                out.append(ck.fail(path + (i, "nodes"), "missing required field 'nodes' (a count or a percent)"))
                continue
            window = _window(b, path + (i,), ck, required=False)
            reasons = tuple(dict.fromkeys(b["reasons"] or ()))
            out.append(INVALID if window is INVALID else Budget(b["nodes"], window, reasons))
        return INVALID if INVALID in out else tuple(out)

    def describe(self):
        return "list of {nodes, schedule, duration, reasons}"
