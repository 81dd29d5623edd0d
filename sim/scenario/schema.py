"""A small declarative schema: field types that convert raw YAML values and report problems.

Each ``Spec`` turns a raw value into a typed one (``KubeVersion``, millicores, seconds,
``IntOrPercent``, ...) or records a ``Problem`` that says what is wrong and what would be
valid, at the value's line. Checking never stops at the first problem: a whole file is
checked and every problem is reported at once. So a mapping or a list with a bad value
keeps its good ones: the bad value becomes ``INVALID`` in place, and the rules that span
fields (``sim.scenario.build``) still check every field that is good. ``broken(value)``
says whether anything inside a value was refused.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Any

from models.names import as_label, name_problem
from models.quantity import IntOrPercent, finite_float, parse_cpu, parse_duration, parse_memory, shown_number
from models.version import KubeVersion
from sim.scenario.source import Path, Problem, Source

INVALID = object()  # what a check returns for a value it could not accept
REQUIRED = object()  # a field default meaning "must be given"
UNKNOWN = "(unknown fields)"  # the key under which a checked mapping notes that it had unknown ones


def broken(value: Any) -> bool:
    """Was ``value``, or anything inside it, refused (and its problem recorded)?"""
    if value is INVALID:
        return True
    if isinstance(value, dict):
        return any(broken(v) for v in value.values())
    if isinstance(value, list):
        return any(broken(v) for v in value)
    return False


class Checker:
    """Collects problems while a ``Source`` is checked."""

    def __init__(self, src: Source):
        self.src = src
        self.problems: list[Problem] = []

    def fail(self, path: Path, message: str) -> Any:
        self.problems.append(self.src.problem(path, message))
        return INVALID

    def raw(self, path: Path) -> str | None:
        return self.src.raw.get(path)


def _type_name(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the text {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def suggest(word: str, choices) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}? " if close else ""


@dataclass
class Spec:
    doc: str = ""

    def check(self, value: Any, path: Path, ck: Checker) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def describe(self) -> str:
        return ""


@dataclass
class Str(Spec):
    example: str = "text"

    def check(self, value, path, ck):
        if isinstance(value, str) and value.strip():
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return ck.raw(path) or str(value)
        return ck.fail(path, f"expected non-empty text such as {self.example!r}, got {_type_name(value)}")

    def describe(self):
        return "text"


@dataclass
class Name(Str):
    """A Kubernetes object name: a DNS label or subdomain (``models.names``)."""

    kind: str = "label"

    def check(self, value, path, ck):
        text = super().check(value, path, ck)
        if text is INVALID:
            return text
        problem = name_problem(text, self.kind)
        if problem is None:
            return text
        fixed = as_label(text) if self.kind == "label" else ".".join(as_label(p) for p in text.split(".") if as_label(p))
        hint = f"; did you mean {fixed!r}?" if fixed and name_problem(fixed, self.kind) is None else ""
        shown = repr(text) if len(text) <= 60 else repr(text[:40] + "...")
        return ck.fail(path, f"{shown} {problem}{hint}")

    def describe(self):
        return f"Kubernetes name (DNS {self.kind})"


@dataclass
class Int(Spec):
    min: int | None = None
    max: int | None = None
    why_max: str = ""  # where the upper bound comes from

    def check(self, value, path, ck):
        if isinstance(value, bool) or not isinstance(value, int):
            return ck.fail(path, f"expected a whole number{self._range()}, got {_type_name(value)}")
        if self.min is not None and value < self.min:
            what = "negative" if value < 0 else "too small"
            return ck.fail(path, f"{shown_number(value)} is {what}; expected a whole number{self._range()}")
        if self.max is not None and value > self.max:
            why = f" ({self.why_max})" if self.why_max else ""
            return ck.fail(path, f"{shown_number(value)} is too large; expected a whole number{self._range()}{why}")
        return value

    def _range(self) -> str:
        if self.min is not None and self.max is not None:
            return f" from {self.min} to {self.max}"
        if self.min is not None:
            return f" of {self.min} or more"
        return ""

    def describe(self):
        return "integer" + self._range()


_EXPONENT = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)[eE][+-]?\d+$")


@dataclass
class Num(Spec):
    min: float | None = None
    max: float | None = None
    above_min: bool = False  # the minimum itself is not allowed

    def check(self, value, path, ck):
        if isinstance(value, str) and _EXPONENT.match(value.strip()):
            value = float(value)  # YAML 1.2 reads 1e-3 as a number; PyYAML (YAML 1.1) reads it as text
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return ck.fail(path, f"expected a number, got {_type_name(value)}")
        try:
            finite_float(value)
        except ValueError as exc:
            return ck.fail(path, f"{str(exc).split(';')[0]}; expected a number{self._range()}")
        low = self.min is not None and (value <= self.min if self.above_min else value < self.min)
        if low or (self.max is not None and value > self.max):
            return ck.fail(path, f"{value} is out of range; expected a number{self._range()}")
        return float(value)

    def _range(self) -> str:
        if self.min is not None and self.max is not None:
            return f" from {self.min:g} to {self.max:g}"
        if self.min is not None:
            return f" above {self.min:g}" if self.above_min else f" of {self.min:g} or more"
        return ""

    def describe(self):
        return "number"


@dataclass
class Bool(Spec):
    def check(self, value, path, ck):
        if isinstance(value, bool):
            return value
        return ck.fail(path, f"expected true or false, got {_type_name(value)}")

    def describe(self):
        return "true | false"


@dataclass
class Version(Spec):
    def check(self, value, path, ck):
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            return ck.fail(path, f"expected a version such as \"1.29.3\", got {_type_name(value)}")
        text = ck.raw(path) if not isinstance(value, str) else value
        try:
            return KubeVersion.parse(str(text if text is not None else value))
        except ValueError as exc:
            return ck.fail(path, f"{exc}")

    def describe(self):
        return 'version, e.g. "1.29.3"'


@dataclass
class Quantity(Spec):
    kind: str = "cpu"

    def check(self, value, path, ck):
        parse = parse_cpu if self.kind == "cpu" else parse_memory
        example = "'500m' or 2" if self.kind == "cpu" else "'512Mi' or '32Gi'"
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            return ck.fail(path, f"expected a {self.kind} quantity such as {example}, got {_type_name(value)}")
        try:
            return parse(value)
        except ValueError as exc:
            return ck.fail(path, f"{exc}")

    def describe(self):
        return "quantity, e.g. 500m" if self.kind == "cpu" else "quantity, e.g. 512Mi"


@dataclass
class Duration(Spec):
    def check(self, value, path, ck):
        try:
            return parse_duration(value)
        except (ValueError, TypeError) as exc:
            return ck.fail(path, f"{exc}")

    def describe(self):
        return "duration, e.g. 90s, 15m"


@dataclass
class IntOrPct(Spec):
    of: str = ""  # what a percent is a share of, when it may not pass 100% (a pool's nodes, a workload's pods)

    def check(self, value, path, ck):
        try:
            parsed = IntOrPercent.parse(value)
        except ValueError as exc:
            return ck.fail(path, f"{exc}")
        if self.of and parsed.percent and parsed.value > 100:
            return ck.fail(path, f"{parsed} is more than all of {self.of}; valid: a count, or 0% to 100%")
        return parsed

    def describe(self):
        return 'count or percent, e.g. 1 or "25%"'


@dataclass
class Enum(Spec):
    choices: tuple = ()

    def check(self, value, path, ck):
        if isinstance(value, bool) and ck.raw(path) in self.choices:
            value = ck.raw(path)  # YAML 1.1 reads on/off/yes/no as booleans
        if isinstance(value, str) and value in self.choices:
            return value
        shown = value if isinstance(value, str) else _type_name(value)
        hint = suggest(value, self.choices) if isinstance(value, str) else ""
        return ck.fail(path, f"{shown!r} is not one of the choices; {hint}valid: {', '.join(self.choices)}")

    def describe(self):
        return " | ".join(self.choices)


@dataclass
class ListOf(Spec):
    """A list; a bad item stays in place (``INVALID``, or a mapping with bad fields)."""

    item: Spec = field(default_factory=Spec)
    min_items: int = 0

    def check(self, value, path, ck):
        if not isinstance(value, list):
            return ck.fail(path, f"expected a list, got {_type_name(value)}")
        if len(value) < self.min_items:
            return ck.fail(path, f"expected at least {self.min_items} item(s), got {len(value)}")
        return [self.item.check(v, path + (i,), ck) for i, v in enumerate(value)]

    def describe(self):
        return f"list of {self.item.describe() or 'items'}"


@dataclass
class MapOf(Spec):
    value: Spec = field(default_factory=Spec)

    def check(self, value, path, ck):
        if not isinstance(value, dict):
            return ck.fail(path, f"expected a mapping, got {_type_name(value)}")
        return {k: self.value.check(v, path + (k,), ck) for k, v in value.items()}

    def describe(self):
        return f"mapping of name to {self.value.describe()}"


@dataclass
class Field:
    spec: Spec
    default: Any = None
    doc: str = ""


@dataclass
class Obj(Spec):
    """A mapping with known fields; unknown keys are errors with a "did you mean". Its good
    fields are kept when others are bad (a bad or missing required one becomes ``INVALID``).
    An unknown key is kept as ``UNKNOWN: INVALID``: the misspelt key (``replica: 6``) may have
    meant a field whose default now stands in, so a rule that compares defaults skips it."""

    fields: dict[str, Field] = field(default_factory=dict)
    name: str = "mapping"
    # fields an earlier version of the format had: what to write instead
    retired: dict[str, str] = field(default_factory=dict)

    def check(self, value, path, ck):
        if not isinstance(value, dict):
            return ck.fail(path, f"expected a {self.name} (a mapping with fields {', '.join(self.fields)}), got {_type_name(value)}")
        out: dict[str, Any] = {}
        unknown = [key for key in value if key not in self.fields]
        for key in unknown:
            if key in self.retired:
                ck.fail(path + (key,), f"{key!r} is no longer part of the format: {self.retired[key]}")
            else:
                ck.fail(path + (key,), f"unknown field {key!r}; {suggest(key, self.fields)}valid fields here: {', '.join(self.fields)}")
        for name, f in self.fields.items():
            if name in value and value[name] is not None:
                out[name] = f.spec.check(value[name], path + (name,), ck)
            elif f.default is REQUIRED:
                out[name] = INVALID
                ck.fail(path + (name,), f"missing required field {name!r} ({f.spec.describe() or f.doc})")
            elif isinstance(f.spec, Obj) and isinstance(f.default, dict):
                out[name] = f.spec.check(dict(f.default), path + (name,), ck)  # fill nested defaults
            else:
                out[name] = f.default
        if unknown:
            out[UNKNOWN] = INVALID
        return out

    def describe(self):
        return self.name


@dataclass
class Anything(Spec):
    def check(self, value, path, ck):
        return value


@dataclass
class OneOf(Spec):
    """The first alternative whose ``accepts`` matches the raw value checks it."""

    options: tuple = ()

    def check(self, value, path, ck):
        for accepts, spec in self.options:
            if accepts(value):
                return spec.check(value, path, ck)
        return ck.fail(path, f"expected {' or '.join(s.describe() for _, s in self.options)}, got {_type_name(value)}")

    def describe(self):
        return " or ".join(s.describe() for _, s in self.options)
