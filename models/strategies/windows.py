"""Maintenance windows: recurring windows in UTC (a cron schedule and a duration, ``models.schedule``)
outside which no new batch starts, while work in flight finishes (GKE maintenance windows, AKS
planned maintenance). The wall clock is the view's (``ClusterState.wall_time``): the epoch live,
the scenario's ``startTime`` plus the simulated time in a rehearsal, so a strategy computes it
the same way in both."""

from __future__ import annotations

from models.schedule import any_open, next_opening, wall_clock
from models.state import ClusterState


def window_closed(view: ClusterState, params: dict) -> tuple[str, float] | None:
    """Outside every maintenance window: why, and when (in the view's time) the next one opens; None: open."""
    windows = tuple(params.get("maintenanceWindows") or ())
    if not windows or any_open(windows, view.wall_time):
        return None
    opens = next_opening(windows, view.wall_time)
    return (f"outside the maintenance windows ({', '.join(str(w) for w in windows)}): no new batch starts until "
            f"{wall_clock(opens)}", opens - view.clock_origin)
