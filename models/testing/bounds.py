"""Checking a generator's bounds when it is made, so a mistake is one ``InvalidArgument`` that
names the bound and what would be valid, not a failure at the first draw."""

from __future__ import annotations

import math

from hypothesis.errors import InvalidArgument


def check_int(name: str, value, low: int, high: int | None = None) -> None:
    """``value`` is a whole number (not a bool) from ``low`` to ``high``."""
    if not isinstance(value, int) or isinstance(value, bool) or value < low or (high is not None and value > high):
        valid = f"{low} to {high}" if high is not None else f"{low} or more"
        raise InvalidArgument(f"{name}={value!r}; valid: a whole number, {valid}")


def check_number(name: str, value, low: float, high: float | None = None) -> None:
    """``value`` is a finite number (not a bool) from ``low`` to ``high``."""
    if (not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value)
            or value < low or (high is not None and value > high)):
        valid = f"{low:g} to {high:g}" if high is not None else f"{low:g} or more"
        raise InvalidArgument(f"{name}={value!r}; valid: a finite number, {valid}")


def check_order(name_low: str, low: int, name_high: str, high: int) -> None:
    if low > high:
        raise InvalidArgument(f"{name_low}={low} is more than {name_high}={high}")


def check_names(name: str, value, known, what: str, also=None, also_says: str = "") -> tuple[str, ...]:
    """``value`` is a collection of strings from ``known`` (or that ``also`` accepts); a lone string is
    a mistake: it would be read letter by letter. Returns them as a tuple."""
    if isinstance(value, str) or not hasattr(value, "__iter__"):
        raise InvalidArgument(f"{name}={value!r}; valid: a list of {what}, e.g. {[next(iter(known))]!r}")
    names = tuple(value)
    unknown = [n for n in names if not isinstance(n, str) or (n not in known and not (also and also(n)))]
    if unknown or not names:
        raise InvalidArgument(f"{name}: {'unknown ' + what + ' ' + repr(unknown) if unknown else 'none given'}; "
                              f"valid: {', '.join(known)}{also_says}")
    return names
