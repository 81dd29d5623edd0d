"""midair's own version, as installed (``midair --version``, and every results file)."""

from __future__ import annotations

from functools import cache


@cache
def midair_version() -> str:
    """The installed distribution's version; "unknown" when midair runs from a source tree
    that was never installed."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("midair")
    except PackageNotFoundError:
        return "unknown"
