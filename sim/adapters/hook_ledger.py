"""Hook runs that outlive midair: each one recorded in a directory, so that a run killed while a
hook was working, and then resumed, neither runs that hook again nor loses its result.

For hook run ``N`` the directory holds ``N.json`` (what runs, for which node or instance, and
when: written before it starts), ``N.cmd`` (the command), ``N.pid`` (written by the hook's
shell as its first act), ``N.log`` (its output), ``N.rc`` (its exit status, written by the
shell when the command ends) and ``N.seen`` (midair has taken its result; for a provisioning,
with the Node it brought). Each file is written whole or not at all (a temporary name, then a
rename).

The hook runs in its own session, its output going to ``N.log`` rather than to midair, so
killing midair (even ``kill -9``) leaves it running to its end. A resumed run adopts every
record without ``N.seen``: still running, it is waited for; finished, its exit status is
taken; never started (no ``N.pid``), it is started now; its process gone without an exit
status (the machine rebooted), it counts as failed, and the strategy decides, as for any
failed hook. A process id could in principle be reused after a reboot; midair only checks
that the process group exists.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from dataclasses import asdict, dataclass

from sim.adapters.hooks import HookResult
from sim.output import atomic_write_text

# the hook's shell: note its pid, run the command with its output to the log, keep its exit status
WRAPPER = ('d=$1; n=$2; echo $$ > "$d/$n.pid.tmp" && mv -f "$d/$n.pid.tmp" "$d/$n.pid"; '
           '/bin/sh "$d/$n.cmd" > "$d/$n.log" 2>&1 < /dev/null; rc=$?; '
           'echo $rc > "$d/$n.rc.tmp" && mv -f "$d/$n.rc.tmp" "$d/$n.rc"; exit $rc')
POLL_S = 0.05


@dataclass(frozen=True)
class HookRecord:
    """One run of a hook: which hook, the command, for what (a node, a control-plane instance or a
    pool; ``component`` says which), the action it serves (as the journal names it) and when it was
    started (seconds since the epoch). A provisioning's ``existing`` names the pool's nodes when it
    was submitted: a Node that was not among them may be the one it brings (``live_provisioning``)."""

    id: int
    hook: str
    command: str
    subject: str
    component: str = ""
    version: str = ""
    zone: str = ""
    action: str = ""
    started: float = 0.0
    existing: tuple[str, ...] | None = None


def _alive(pid: int) -> bool:
    try:
        os.killpg(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class HookLedger:
    def __init__(self, directory: str):
        self.directory = directory
        os.makedirs(directory, exist_ok=True)

    def _path(self, record_id: int, suffix: str) -> str:
        return os.path.join(self.directory, f"{record_id}.{suffix}")

    def _ids(self) -> list[int]:
        return sorted(int(name[:-5]) for name in os.listdir(self.directory)
                      if name.endswith(".json") and name[:-5].isdigit())

    def record(self, hook: str, command: str, subject: str, *, component: str = "", version: str = "", zone: str = "",
               action: str = "", now: float | None = None, existing: tuple[str, ...] | None = None) -> HookRecord:
        """Write down a hook run before it starts."""
        ids = self._ids()
        rec = HookRecord(ids[-1] + 1 if ids else 1, hook, command, subject, component, version, zone, action,
                         time.time() if now is None else now, existing)
        atomic_write_text(self._path(rec.id, "cmd"), command + "\n")
        atomic_write_text(self._path(rec.id, "json"), json.dumps(asdict(rec), sort_keys=True) + "\n")
        return rec

    def open_records(self) -> list[HookRecord]:
        """Runs whose result midair has not taken yet (a previous run stopped while they ran)."""
        out = []
        for record_id in self._ids():
            if os.path.exists(self._path(record_id, "seen")):
                continue
            with open(self._path(record_id, "json"), encoding="utf-8") as fh:
                out.append(HookRecord(**json.load(fh)))
        return out

    def mark_seen(self, rec: HookRecord, result: HookResult, node: str = "") -> None:
        """midair has taken the run's result; ``node``: the Node a provisioning brought (``nodes_brought``)."""
        seen = {"ok": result.ok, "code": result.code, **({"node": node} if node else {})}
        atomic_write_text(self._path(rec.id, "seen"), json.dumps(seen) + "\n")

    def nodes_brought(self) -> set[str]:
        """The Nodes that the runs midair has taken brought: a resumed run pairs none of them with a
        provisioning still open."""
        out = set()
        for record_id in self._ids():
            text = self._text(record_id, "seen")
            node = json.loads(text).get("node") if text else None
            if node:
                out.add(node)
        return out

    def _text(self, record_id: int, suffix: str) -> str | None:
        try:
            with open(self._path(record_id, suffix), encoding="utf-8", errors="replace") as fh:
                return fh.read()
        except FileNotFoundError:
            return None

    def _read(self, rec: HookRecord, suffix: str) -> str | None:
        return self._text(rec.id, suffix)

    def started(self, rec: HookRecord) -> bool:
        return self._read(rec, "pid") is not None or self._read(rec, "rc") is not None

    async def run(self, rec: HookRecord, timeout_s: float, log) -> HookResult:
        """Start the recorded hook (unless it has started already) and wait for its end; ``log(line)``
        gets its output as it comes. Past ``timeout_s`` from its start its whole process group is killed."""
        proc = None
        if not self.started(rec):
            proc = await asyncio.create_subprocess_exec(
                "/bin/sh", "-c", WRAPPER, "midair-hook", self.directory, str(rec.id), stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL, start_new_session=True)
        deadline = rec.started + timeout_s
        offset = 0
        while True:
            offset = self._pump(rec, offset, log)
            rc = self._read(rec, "rc")
            if rc is not None and rc.strip().lstrip("-").isdigit():
                self._pump(rec, offset, log, final=True)
                if proc is not None:
                    await proc.wait()
                code = int(rc.strip())
                return HookResult(code == 0, code, self._output(rec))
            pid_text = self._read(rec, "pid")
            gone = proc.returncode is not None if proc is not None else (
                pid_text is not None and pid_text.strip().isdigit() and not _alive(int(pid_text)))
            if gone and self._read(rec, "rc") is None:
                self._pump(rec, offset, log, final=True)
                return HookResult(False, -1, self._output(rec) + "\nthe hook's process ended without an exit status")
            if time.time() >= deadline:
                self._kill(proc.pid if proc is not None else int(pid_text) if (pid_text or "").strip().isdigit() else None)
                if proc is not None:
                    await proc.wait()
                self._pump(rec, offset, log, final=True)
                return HookResult(False, None, self._output(rec), timeout_s)
            await asyncio.sleep(POLL_S)

    @staticmethod
    def _kill(pid: int | None) -> None:
        if pid is None:
            return
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def _output(self, rec: HookRecord) -> str:
        return (self._read(rec, "log") or "").rstrip("\n")

    def _pump(self, rec: HookRecord, offset: int, log, final: bool = False) -> int:
        """Log the complete lines written since ``offset`` (and, at the end, what is left); the new offset."""
        text = self._read(rec, "log") or ""
        fresh = text[offset:]
        lines = fresh.split("\n")
        done, rest = lines[:-1], lines[-1]
        for line in done:
            log(line)
        offset += sum(len(line) + 1 for line in done)
        if final and rest:
            log(rest)
            offset += len(rest)
        return offset
