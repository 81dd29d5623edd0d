"""The reconcile loop: the only loop, the same for the simulated and the live cluster.

    view = port.observe()
    decision = strategy.decide(view, plan, memo)
    check each action against the safety policies; submit the approved ones
    journal the memo and what happened
    wait until the cluster changes or the decision's wake-up time

``reconcile`` is a generator: it yields the time by which it wants to look again, and
the port's driver does the waiting (simpy in simulation, the wall clock live). It ends
when the strategy is done and ``models.progress`` agrees, when a strategy halts, or
when the horizon passes.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone

from models.actions import Halt
from models.plan import Plan
from models.policies import review
from models.progress import remaining_work
from sim.adapters.port import ClusterPort
from sim.errors import UsageError
from sim.output import read_json_lines

RESYNC_S = 60.0  # look again at least this often, change or not
WALL_CLOCK = 1e9  # times past this are seconds since the epoch (2001 onwards), not since the start
STOPPED_WITH_WORK_LEFT = "the strategy stopped with work remaining"  # how a halt for a premature "done" begins


@dataclass(frozen=True)
class LogEntry:
    t: float
    kind: str  # action | failed | refused | unsafe | halt | done; between decisions: completed | waited | retry
    action: str
    reason: str
    detail: str = ""
    duration_s: float | None = None  # completed: seconds from submission; waited: seconds the API did not answer
    component: str = ""  # completed: what it was done to (node, pool, kube-apiserver, ...)

    def line(self) -> str:
        # simulated time counts seconds from the start; a live run's time is the wall clock
        when = (datetime.fromtimestamp(self.t, timezone.utc).strftime("%H:%M:%SZ") if self.t >= WALL_CLOCK
                else f"{self.t:9.1f}s")
        head = f"{when:>10}  {self.kind:<7} {self.action}"
        tail = f"  ({self.detail})" if self.detail else ""
        return f"{head}{tail}\n{'':18}why: {self.reason}"


@dataclass
class Outcome:
    completed: bool
    halted: str | None
    finished_at: float


@dataclass
class Journal:
    """The memo and the log, kept after every decision so a crashed run can resume."""

    memo: dict = field(default_factory=dict)
    entries: list[LogEntry] = field(default_factory=list)
    decisions: int = 0
    listener: object = None  # called with the new entries of each decision (progress output)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def intend(self, memo: dict) -> None:
        """Write-ahead: keep the memo of a decision before its actions are submitted."""
        self.memo = memo

    def save(self, memo: dict, new_entries: list[LogEntry]) -> None:
        with self.lock:
            self.memo = memo
            self.entries.extend(new_entries)
            self.decisions += 1
            self._write(memo, new_entries, note=False)
            if self.listener is not None and new_entries:
                self.listener(new_entries)

    def note(self, entry: LogEntry, memo: dict | None = None) -> None:
        """Something seen between decisions (an operation completed, the API back after an outage, a halt
        cleared), kept with the current memo (or ``memo``, which replaces it); safe from any thread."""
        with self.lock:
            if memo is not None:
                self.memo = memo
            self.entries.append(entry)
            self._write(self.memo, [entry], note=True)
            if self.listener is not None:
                self.listener([entry])

    def _write(self, memo: dict, entries: list[LogEntry], note: bool) -> None:
        pass

    @property
    def halted(self) -> str | None:
        """Why the journalled run halted, if its last word is a halt (a strategy's, or the loop's)."""
        if self.memo.get("halted"):
            return str(self.memo["halted"])
        last = self.entries[-1] if self.entries else None
        return last.reason if last is not None and last.kind == "halt" else None


class JournalError(Exception):
    pass


class FileJournal(Journal):
    """A journal that appends one JSON line per decision to a file and reads it back on resume.

    The first line is a header (what is being upgraded, how); a resumed run checks it. A
    decision that changes nothing (the same memo, nothing done: a wait) adds no line, so a
    journal grows with what happens, not with how long it takes.
    """

    def __init__(self, path: str, resume: bool = False, header: dict | None = None):
        super().__init__()
        self.path = path
        self.header: dict = header or {}
        if not resume:
            if os.path.exists(path):
                raise JournalError(f"{path} exists: continue it with --resume {path}, or move it away")
            self._append({"header": self.header})
            return
        try:
            records = read_json_lines(path, "this is not a midair journal")
        except FileNotFoundError:
            raise JournalError(f"{path}: no such journal") from None
        except UsageError as exc:
            raise JournalError(str(exc)) from None
        for number, record in records:
            try:
                if number == 1:
                    self.header = dict(record["header"])
                    continue
                memo, log = record["memo"], record["log"]
                entries = [LogEntry(**e) for e in log]
            except (KeyError, TypeError, ValueError):
                what = "a header" if number == 1 else "a decision (memo and log)"
                raise JournalError(f"{path}:{number}: expected {what}; this is not a midair journal") from None
            self.memo = memo
            self.entries.extend(entries)
            self.decisions += 0 if record.get("intent") or record.get("note") else 1
        self._written = self.memo

    _written: dict | None = None  # the memo of the last line written

    def _append(self, record: dict) -> None:
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(record, sort_keys=True) + "\n")
            fh.flush()
            os.fsync(fh.fileno())

    def intend(self, memo: dict) -> None:
        with self.lock:
            super().intend(memo)
            if memo != self._written:
                self._append({"memo": memo, "log": [], "intent": True})
                self._written = memo

    def _write(self, memo: dict, entries: list[LogEntry], note: bool) -> None:
        if not entries and memo == self._written:
            return
        record = {"memo": memo, "log": [asdict(e) for e in entries]}
        self._append({**record, "note": True} if note else record)
        self._written = memo


def reconcile(port: ClusterPort, strategy, plan: Plan, journal: Journal, *, safety: bool = True,
              horizon: float | None = None):
    """The reconcile loop as a generator; its return value is the ``Outcome``."""
    memo = dict(journal.memo)
    started = port.now()
    while True:
        now = port.now()
        if horizon is not None and now >= horizon:
            remaining = remaining_work(port.observe(), plan)
            # simulated time starts at 0; a live clock is the wall clock, so count from the start
            span = f"{horizon:.0f}s simulated" if started == 0.0 else f"{horizon - started:.0f}s from this start"
            reason = (f"did not finish within the horizon ({span}); "
                      f"still to do: {'; '.join(remaining[:3]) or 'nothing'}")
            journal.save(memo, [LogEntry(now, "halt", "Halt", reason)])
            return Outcome(False, reason, now)
        view = port.observe()
        decision = strategy.decide(view, plan, memo)
        journal.intend(dict(decision.memo))
        entries: list[LogEntry] = []
        halted = None
        for action, refusal in review(decision.actions, view, plan):
            if isinstance(action, Halt):
                halted = action.reason
                entries.append(LogEntry(now, "halt", "Halt", action.reason))
                break
            if refusal is not None and safety:
                entries.append(LogEntry(now, "refused", action.describe(), action.reason,
                                        f"{refusal.policy}: {refusal.reason}"))
                continue
            result = port.submit(action)
            kind = "action" if result.accepted else "failed"
            if refusal is not None:
                kind = "unsafe" if result.accepted else "failed"
            detail = result.message if refusal is None else f"safety off, {refusal.policy}: {refusal.reason}"
            entries.append(LogEntry(now, kind, action.describe(), action.reason, detail))
            if not result.accepted and result.permanent:
                halted = f"{action.describe()}: {result.message}"
                entries.append(LogEntry(now, "halt", "Halt", halted))
                break
        memo = dict(decision.memo)
        if halted is not None:
            journal.save(memo, entries)
            return Outcome(False, halted, now)
        if decision.done:
            remaining = remaining_work(view, plan)
            if not remaining:
                entries.append(LogEntry(now, "done", "Done", "every component is at the target"))
                journal.save(memo, entries)
                return Outcome(True, None, now)
            reason = f"{STOPPED_WITH_WORK_LEFT}: {'; '.join(remaining[:3])}"
            entries.append(LogEntry(now, "halt", "Halt", reason))
            journal.save(memo, entries)
            return Outcome(False, reason, now)
        journal.save(memo, entries)
        view = None  # let it go while the loop waits (an adapter may then reuse what it shared with it)
        until = now + RESYNC_S
        if decision.wake_at is not None:
            until = min(until, decision.wake_at)
        if horizon is not None:
            until = min(until, horizon)
        yield until

