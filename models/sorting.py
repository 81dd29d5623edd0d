"""Orderings people expect: ``general-2`` before ``general-10``."""

from __future__ import annotations

import re
from functools import lru_cache


@lru_cache(maxsize=1 << 16)
def natural_key(name: str) -> tuple:
    """Split digits out so they compare as numbers."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", name) if part)
