"""Writing files so that an interrupted run never leaves half of one: temporary name, then
rename; a set of files (a report) is staged whole before any is renamed. And reading back the
append-only JSON-lines files (the live journal, a sweep's checkpoint), whose last line an
interruption may have cut short."""

from __future__ import annotations

import json
import os
import tempfile

from sim.errors import UsageError

_UMASK = os.umask(0)
os.umask(_UMASK)


def _staged(path: str, data: bytes) -> str:
    """``data`` written and synced to a temporary file beside ``path``; returns its name."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=directory)
    try:
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; give the file the usual permissions
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        os.unlink(tmp)
        raise
    return tmp


def atomic_write_many(files: dict[str, bytes]) -> None:
    """Write every file to a temporary name first, then rename them all: an interruption
    leaves either the old set or the new one (but for the instant of the renames)."""
    staged: list[tuple[str, str]] = []
    path = ""
    try:
        for path, data in files.items():
            staged.append((_staged(path, data), path))
        for tmp, path in staged:
            os.replace(tmp, path)
    except BaseException as exc:
        for tmp, _ in staged:
            if os.path.exists(tmp):
                os.unlink(tmp)
        if isinstance(exc, OSError):
            raise UsageError(f"{path}: cannot write it ({exc.strerror or exc})") from None
        raise


def atomic_write_bytes(path: str, data: bytes) -> None:
    atomic_write_many({path: data})


def atomic_write_text(path: str, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def read_json_lines(path: str, what: str) -> list[tuple[int, object]]:
    """(line number, record) of every line of ``path``. The last line, if it is not JSON, was being
    written when the process stopped and is dropped; any other that is not JSON raises a
    ``UsageError`` that ends with ``what`` (what the file should have been)."""
    with open(path, encoding="utf-8") as fh:
        lines = fh.read().split("\n")
    out = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            out.append((number, json.loads(line)))
        except json.JSONDecodeError:
            if number >= len(lines) - 1:
                break  # the line being written when the process stopped: everything before it stands
            raise UsageError(f"{path}:{number}: not valid JSON; {what}") from None
    return out
