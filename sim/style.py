"""Colour on a terminal: BLOCK in red, WARN in yellow, when the terminal allows it.

Colour is used only when the stream is a terminal, ``NO_COLOR`` is unset or empty
(no-color.org) and ``TERM`` is not ``dumb``; a pipe or a file gets plain text.
"""

from __future__ import annotations

import os

SEVERITY_COLOURS = {"BLOCK": "\033[1;31m", "WARN": "\033[33m"}
RESET = "\033[0m"


def colour_allowed(stream) -> bool:
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def severity(text: str, sev: str, colour: bool) -> str:
    """``text`` in the colour of ``sev`` (BLOCK, WARN) when ``colour``; else as it is."""
    code = SEVERITY_COLOURS.get(sev)
    return f"{code}{text}{RESET}" if colour and code else text
