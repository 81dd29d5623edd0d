"""Hooks: the user's commands for what happens on a machine or in a cloud.

A scenario's ``live.hooks`` holds command templates; ``{node}``, ``{pool}``, ``{version}``,
``{zone}`` and ``{instance}`` are filled in (shell-quoted) and the command runs through
the shell with a timeout (``sim.adapters.hook_ledger`` records each run, so that it survives
midair being killed). Its output is logged; its exit status is the action's result. A
provisioning hook may print the new node's name as its last line of output.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

HOOKS = ("upgradeNode", "provisionNode", "deleteNode", "upgradeControlPlane")
PLACEHOLDERS = ("node", "pool", "version", "zone", "instance")


@dataclass(frozen=True)
class HookResult:
    ok: bool
    code: int | None  # None: killed when it ran past its timeout
    output: str
    timeout_s: float = 0.0

    @property
    def last_line(self) -> str:
        lines = [line for line in self.output.splitlines() if line.strip()]
        return lines[-1].strip() if lines else ""

    def message(self, name: str) -> str:
        if self.ok:
            return f"hook {name} succeeded"
        if self.code is None:
            return f"hook {name} timed out after {self.timeout_s:g}s"
        tail = f": {self.last_line}" if self.last_line else ""
        return f"hook {name} exited {self.code}{tail}"


def render(template: str, **values) -> str:
    """The command line, every placeholder shell-quoted; an unknown one is a ``KeyError``."""
    return template.format_map({k: shlex.quote(str(v)) for k, v in values.items()})


def check_template(template: str) -> str | None:
    """A problem with a hook template, or None."""
    import string

    try:
        names = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
    except ValueError as exc:
        return f"cannot read the template ({exc}); write placeholders as {{node}}, and braces as {{{{ }}}}"
    unknown = [n for n in names if n not in PLACEHOLDERS]
    if unknown:
        return f"unknown placeholder {{{unknown[0]}}}; valid: {', '.join('{' + p + '}' for p in PLACEHOLDERS)}"
    return None


async def run_hook(command: str, timeout_s: float, log, directory: str | None = None) -> HookResult:
    """Run ``command`` through the shell; ``log(line)`` gets its output as it comes. On timeout the
    whole process group is killed: the shell and whatever it started (an ssh, a sleep). The run is
    recorded in ``directory`` (a fresh temporary one if None) by ``sim.adapters.hook_ledger``."""
    import shutil
    import tempfile

    from sim.adapters.hook_ledger import HookLedger

    own = directory is None
    ledger = HookLedger(directory or tempfile.mkdtemp(prefix="midair-hook-"))
    try:
        record = ledger.record("hook", command, "")
        result = await ledger.run(record, timeout_s, log)
        ledger.mark_seen(record, result)
        return result
    finally:
        if own:
            shutil.rmtree(ledger.directory, ignore_errors=True)
