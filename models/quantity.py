"""Kubernetes resource quantities, durations and int-or-percent values.

CPU is kept in millicores and memory in bytes, both as integers, so that capacity
arithmetic is exact. The suffixes are those of the Kubernetes quantity format
(apimachinery's resource.Quantity): decimal ``k M G T P E`` and binary
``Ki Mi Gi Ti Pi Ei``; ``m`` means thousandths.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

_QUANTITY_RE = re.compile(r"^(?P<num>[+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)(?P<suffix>[A-Za-z]*)$")

_SUFFIXES = {
    "": Decimal(1),
    "m": Decimal("0.001"),
    "k": Decimal(10**3),
    "M": Decimal(10**6),
    "G": Decimal(10**9),
    "T": Decimal(10**12),
    "P": Decimal(10**15),
    "E": Decimal(10**18),
    "Ki": Decimal(2**10),
    "Mi": Decimal(2**20),
    "Gi": Decimal(2**30),
    "Ti": Decimal(2**40),
    "Pi": Decimal(2**50),
    "Ei": Decimal(2**60),
}
VALID_SUFFIXES = "m, k, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi, Ei"


def _parse(text: str | int | float, what: str) -> Decimal:
    if isinstance(text, bool):
        raise ValueError(f"{what} must be a quantity such as '500m' or '2Gi', not {text!r}")
    if isinstance(text, (int, float)):
        if text < 0 or not math.isfinite(text):
            raise ValueError(f"{what} must be a non-negative quantity, not {text!r}")
        return Decimal(str(text))
    m = _QUANTITY_RE.match(str(text).strip())
    if not m:
        raise ValueError(f"{what} {text!r} is not a quantity (expected a number with an optional suffix: {VALID_SUFFIXES})")
    suffix = m.group("suffix")
    if suffix not in _SUFFIXES:
        raise ValueError(f"{what} {text!r} has an unknown suffix {suffix!r} (valid suffixes: {VALID_SUFFIXES})")
    try:
        return Decimal(m.group("num")) * _SUFFIXES[suffix]
    except InvalidOperation as exc:  # pragma: no cover - the regex admits only numbers
        raise ValueError(f"{what} {text!r} is not a quantity") from exc


def parse_cpu(text: str | int | float) -> int:
    """CPU quantity in millicores, rounded up as Kubernetes does (``0.1`` -> 100)."""
    return int((_parse(text, "cpu") * 1000).to_integral_value(rounding="ROUND_CEILING"))


def parse_memory(text: str | int | float) -> int:
    """Memory quantity in bytes, rounded up."""
    return int(_parse(text, "memory").to_integral_value(rounding="ROUND_CEILING"))


def format_cpu(millicores: int) -> str:
    return f"{millicores // 1000}" if millicores % 1000 == 0 else f"{millicores}m"


def format_memory(n: int) -> str:
    for suffix, size in (("Gi", 2**30), ("Mi", 2**20), ("Ki", 2**10)):
        if n and n % size == 0:
            return f"{n // size}{suffix}"
    return str(n)


# 90, 1.5h and, as YAML 1.2 reads numbers, 2e3 (PyYAML's YAML 1.1 hands that over as text)
_DURATION_RE = re.compile(r"^(?P<num>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)(?P<unit>ms|s|m|h|d)?$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}


def parse_duration(text: str | int | float) -> float:
    """A duration in seconds from ``90``, ``90s``, ``15m``, ``1.5h`` or ``2d``."""
    if isinstance(text, bool):
        raise ValueError(f"{text!r} is not a duration (expected seconds or text such as '90s', '15m', '2h')")
    if isinstance(text, (int, float)):
        seconds = finite_float(text, "a duration")
        if seconds < 0:
            raise ValueError(f"a duration must be zero or more seconds, not {text!r}")
        return seconds
    m = _DURATION_RE.match(str(text).strip())
    if not m:
        raise ValueError(f"{text!r} is not a duration (expected seconds or text such as '90s', '15m', '2h')")
    return finite_float(float(m.group("num")) * _UNITS[m.group("unit")], "a duration")


def finite_float(value: int | float, what: str = "a number") -> float:
    """``value`` as a float, or ValueError if no float holds it (too large, inf, nan)."""
    try:
        number = float(value)
    except OverflowError:
        raise ValueError(f"{shown_number(value)} is too large for {what}") from None
    if not math.isfinite(number):
        raise ValueError(f"{value!r} is not a finite number; {what} must be one")
    return number


def format_duration(seconds: float) -> str:
    if seconds == int(seconds):
        s = int(seconds)
        for unit, size in (("h", 3600), ("m", 60)):
            if s and s % size == 0:
                return f"{s // size}{unit}"
        return f"{s}s"
    return f"{seconds:g}s"


@dataclass(frozen=True)
class IntOrPercent:
    """An ``intstr`` value such as maxUnavailable: an absolute count (a number) or a percentage (text
    ending in %). As in Kubernetes, text that is not a percentage, such as '25', is an error
    (apimachinery pkg/util/validation IsValidPercent, through ValidatePositiveIntOrPercent)."""

    value: int
    percent: bool = False

    @classmethod
    def parse(cls, raw: int | str | IntOrPercent) -> IntOrPercent:
        if isinstance(raw, IntOrPercent):
            return raw
        if isinstance(raw, bool):
            raise ValueError(f"{raw!r} is not a count or a percentage (expected e.g. 1 or '25%')")
        if isinstance(raw, int):
            if raw < 0:
                raise ValueError(f"{raw} is negative (expected a count of 0 or more, or a percentage such as '25%')")
            return cls(raw)
        text = str(raw).strip()
        m = re.fullmatch(r"(\d+)%", text)
        if m:
            return cls(int(m.group(1)), percent=True)
        if text.isdigit():  # intstr: text must be a percentage (apimachinery IsValidPercent), as the API rejects it
            raise ValueError(f"{raw!r} is text, and text must be a percentage: write the count {text} as a number "
                             f"(unquoted) or the percentage as '{text}%'")
        raise ValueError(f"{raw!r} is not a count or a percentage (expected e.g. 1 or '25%')")

    def scaled(self, total: int, round_up: bool) -> int:
        """The absolute value against ``total``, as apimachinery's GetScaledValueFromIntOrPercent."""
        if not self.percent:
            return self.value
        exact = self.value * total
        return -(-exact // 100) if round_up else exact // 100

    def __str__(self) -> str:
        return f"{self.value}%" if self.percent else str(self.value)

    def to_json(self) -> int | str:
        return str(self) if self.percent else self.value


def shown_number(value: int | float) -> str:
    """``value`` for a message: as written, or its first digits and how many there are when it is long."""
    text = str(value)
    return text if len(text) <= 20 else f"{text[:12]}... ({len(text)} digits)"
