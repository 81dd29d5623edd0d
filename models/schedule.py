"""Recurring times in UTC: cron schedules and the windows they open.

A ``Cron`` is the five-field schedule of a Kubernetes CronJob (minute, hour, day of month,
month, day of week; ``*``, lists, ranges, steps, month and day names, and the ``@daily``
style macros), read as Karpenter reads a disruption budget's ``schedule`` (always in UTC,
no time zones: kubernetes-sigs/karpenter pkg/apis/v1/nodepool.go, which parses it with
robfig/cron's standard parser). As there, when both the day of month and the day of week
are restricted, a day that matches either one matches.

A ``Window`` is a schedule with a duration: it is open from each time the schedule hits,
for the duration (Karpenter's ``Budget.IsActive``: a window is open when the schedule hit
at most ``duration`` ago). Maintenance windows (a strategy's ``maintenanceWindows``) and
Karpenter's scheduled budgets are both windows.

Times are seconds since the epoch. Pure: no clock is read here; the caller says what time it is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
MACROS = {"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
          "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *"}
# (name, low, high, names that stand for numbers)
FIELDS = (("minute", 0, 59, ()), ("hour", 0, 23, ()), ("day of month", 1, 31, ()), ("month", 1, 12, MONTHS),
          ("day of week", 0, 6, DAYS))
SEARCH_YEARS = 5  # a schedule that never hits in this long (30 February) is refused


def _number(text: str, field: tuple) -> int:
    name, low, high, names = field
    upper = text.upper()
    if upper in names:
        return names.index(upper) + low
    if not text.isdigit():
        valid = f"{low}-{high}" + (f" or {names[0]}-{names[-1]}" if names else "")
        raise ValueError(f"{name} {text!r} is not a number; valid: {valid}")
    value = int(text)
    if not low <= value <= high:
        raise ValueError(f"{name} {value} is out of range; valid: {low}-{high}")
    return value


def _field(text: str, field: tuple) -> tuple[frozenset[int], bool]:
    """The values one field allows, and whether it was written as ``*`` (or ``?``)."""
    name, low, high, _ = field
    values: set[int] = set()
    star = False
    for part in text.split(","):
        if not part:
            raise ValueError(f"{name} {text!r} has an empty item")
        body, _, step_text = part.partition("/")
        step = 1
        if step_text:
            if not step_text.isdigit() or int(step_text) == 0:
                raise ValueError(f"{name} step {step_text!r} must be a whole number of 1 or more")
            step = int(step_text)
        if body in ("*", "?"):
            start, end = low, high
            star = star or step == 1
        elif "-" in body:
            a, _, b = body.partition("-")
            start, end = _number(a, field), _number(b, field)
            if start > end:
                raise ValueError(f"{name} range {body!r} runs backwards")
        else:
            start = _number(body, field)
            end = high if step_text else start  # "5/15" means from 5 to the end, every 15
        values.update(range(start, end + 1, step))
    return frozenset(values), star


@dataclass(frozen=True)
class Cron:
    text: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 is Sunday
    any_day: bool  # day of month written as *
    any_weekday: bool  # day of week written as *

    @classmethod
    def parse(cls, text: str) -> Cron:
        if not isinstance(text, str) or not text.strip():
            raise ValueError("a schedule is five fields (minute hour day-of-month month day-of-week) or a macro "
                             "such as @daily")
        body = MACROS.get(text.strip().lower(), text.strip())
        if body.startswith("@"):
            raise ValueError(f"unknown schedule macro {text!r}; valid: {', '.join(MACROS)}")
        parts = body.split()
        if len(parts) != 5:
            raise ValueError(f"schedule {text!r} has {len(parts)} field(s); a schedule has five: minute hour "
                             "day-of-month month day-of-week, in UTC (e.g. '0 2 * * SAT')")
        parsed = [_field(p, f) for p, f in zip(parts, FIELDS)]
        cron = cls(text.strip(), parsed[0][0], parsed[1][0], parsed[2][0], parsed[3][0], parsed[4][0],
                   parsed[2][1], parsed[4][1])
        start = datetime(2000, 1, 1, tzinfo=timezone.utc).timestamp()
        if math.isinf(cron.next_after(start)):
            raise ValueError(f"schedule {text!r} never hits (no such day)")
        return cron

    def _day_matches(self, d: datetime) -> bool:
        dom = d.day in self.days
        dow = (d.weekday() + 1) % 7 in self.weekdays
        if self.any_day or self.any_weekday:
            return dom and dow
        return dom or dow

    def next_after(self, t: float) -> float:
        """The first time after ``t`` (strictly) that the schedule hits, to the minute; inf if none soon."""
        d = datetime.fromtimestamp((math.floor(t / 60) + 1) * 60, timezone.utc)
        last_year = d.year + SEARCH_YEARS
        while d.year <= last_year:
            if d.month not in self.months:
                d = (d.replace(day=1, hour=0, minute=0) + timedelta(days=32)).replace(day=1)
            elif not self._day_matches(d):
                d = d.replace(hour=0, minute=0) + timedelta(days=1)
            elif d.hour not in self.hours:
                d = d.replace(minute=0) + timedelta(hours=1)
            elif d.minute not in self.minutes:
                d += timedelta(minutes=1)
            else:
                return d.timestamp()
        return math.inf

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Window:
    """Open for ``duration_s`` from each time ``schedule`` hits (UTC)."""

    schedule: Cron
    duration_s: float

    def is_open(self, t: float) -> bool:
        """Karpenter's rule: walk back the duration; the window is open if the schedule hits between then and now."""
        return self.schedule.next_after(t - self.duration_s) <= t

    def next_opening(self, t: float) -> float:
        """When the window next opens after ``t`` (``t`` itself if it is open now)."""
        return t if self.is_open(t) else self.schedule.next_after(t)

    def __str__(self) -> str:
        return f"{self.schedule} for {self.duration_s:g}s"

    def to_json(self) -> dict:
        return {"schedule": str(self.schedule), "duration": self.duration_s}


def any_open(windows: tuple[Window, ...], t: float) -> bool:
    return any(w.is_open(t) for w in windows)


def next_opening(windows: tuple[Window, ...], t: float) -> float:
    return min((w.next_opening(t) for w in windows), default=t)


def wall_clock(t: float) -> str:
    """A time since the epoch as a person reads it in UTC."""
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%d %H:%M UTC") if math.isfinite(t) else "never"


def parse_time(text: str) -> float:
    """An RFC 3339 time in UTC (``2026-01-05T10:00:00Z``) as seconds since the epoch."""
    if not isinstance(text, str):
        raise ValueError(f"expected a time such as '2026-01-05T10:00:00Z', got {text!r}")
    try:
        d = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{text!r} is not a time; expected RFC 3339 in UTC, e.g. '2026-01-05T10:00:00Z'") from None
    if d.tzinfo is None:
        raise ValueError(f"{text!r} has no time zone; write it in UTC with a Z, e.g. '2026-01-05T10:00:00Z'")
    return d.astimezone(timezone.utc).timestamp()
