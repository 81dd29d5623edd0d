"""Timing from other files: ``timing: {profile: eks}`` (a platform's published figures, shipped as
data in ``sim/profiles/``), ``timing: {include: FILE}`` (a file such as ``midair calibrate``
writes, relative to the scenario) and ``midair run --timing FILE``.

Layers, lowest first: the profile, the included file, the fields the scenario gives itself,
the ``--timing`` file; a ``--set`` wins over all of them. A layer sets whole fields (a
distribution is replaced, never merged with another); ``inplace`` is layered step by step.
Values from a file keep its name and lines, so a problem in one is reported there. A timing
file holds a ``timing:`` mapping (or is one) and may not include another.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path as FilePath

from sim.scenario.source import InputError, Path, Problem, Source, load_yaml_file

PROFILE_DIR = FilePath(__file__).resolve().parent.parent / "profiles"
NESTED = ("inplace",)  # timing mappings layered field by field
REFERENCES = ("include", "profile")


def profile_file(name: str) -> str:
    return str(PROFILE_DIR / f"{name}.yaml")


def _read_layer(file: str, named_by: Source, at: Path) -> tuple[Source, Path, dict]:
    """The timing mapping of ``file`` (its Source, where the mapping is in it, the mapping)."""
    if not os.path.isfile(file):
        raise InputError([named_by.problem(at, f"no such file {file}; give a timing file (midair calibrate writes "
                                               "one: timing.yaml)")])
    layer = load_yaml_file(file)
    data, base = layer.data, ()
    if isinstance(data, dict) and isinstance(data.get("timing"), dict):
        data, base = data["timing"], ("timing",)
    if not isinstance(data, dict):
        raise InputError([layer.problem(base, "expected a timing mapping (timing: {nodeProvision: ..., ...})")])
    nested = [k for k in REFERENCES if k in data]
    if nested:
        raise InputError([layer.problem(base + (nested[0],), f"a timing file cannot name another ({nested[0]}); "
                                                             "put its fields in this file")])
    return layer, base, data


def _copy_origin(src: Source, to: Path, layer: Source, frm: Path) -> None:
    for stale in [p for p in list(src.lines) + list(src.raw) + list(src.files) if p[:len(to)] == to]:
        src.lines.pop(stale, None)
        src.raw.pop(stale, None)
        src.files.pop(stale, None)
    for table_from, table_to in ((layer.lines, src.lines), (layer.raw, src.raw)):
        for p, value in table_from.items():
            if p[:len(frm)] == frm:
                table_to[to + p[len(frm):]] = value
    src.files[to] = layer.file


def _apply(src: Source, timing: dict, layer: Source, base: Path, data: dict, keep) -> None:
    """Layer ``data`` into ``timing``, but for the fields ``keep(path)`` says stay."""
    for key, value in data.items():
        if key in NESTED and isinstance(value, dict):
            inner = timing.setdefault(key, {}) if isinstance(timing.get(key), dict) or key not in timing else None
            if inner is not None:
                for sub, sub_value in value.items():
                    if not keep(("timing", key, sub)):
                        inner[sub] = copy.deepcopy(sub_value)
                        _copy_origin(src, ("timing", key, sub), layer, base + (key, sub))
                continue
        if not keep(("timing", key)):
            timing[key] = copy.deepcopy(value)
            _copy_origin(src, ("timing", key), layer, base + (key,))


def _given(timing: dict) -> set[Path]:
    """The fields the scenario sets itself (they stay over a profile and an included file)."""
    out: set[Path] = set()
    for key, value in timing.items():
        if key in NESTED and isinstance(value, dict):
            out |= {("timing", key, sub) for sub in value}
        elif key not in REFERENCES:
            out.add(("timing", key))
    return out


def resolve_timing(src: Source, timing_file: str | None = None) -> None:
    """Fold the profile, the included file and ``timing_file`` into ``src``'s timing, in place."""
    if not isinstance(src.data, dict):
        return
    timing = src.data.get("timing")
    if timing is None and timing_file is None:
        return
    if timing is None:
        timing = src.data["timing"] = {}
    if not isinstance(timing, dict):
        return  # the schema reports it
    given = _given(timing)
    profile = timing.get("profile")
    from sim.scenario.fields import TIMING_PROFILES

    if isinstance(profile, str) and profile in TIMING_PROFILES:
        layer, base, data = _read_layer(profile_file(profile), src, ("timing", "profile"))
        _apply(src, timing, layer, base, data, lambda p: p in given)
    include = timing.get("include")
    if isinstance(include, str) and include.strip():
        path = include if os.path.isabs(include) else os.path.join(os.path.dirname(src.file), include)
        layer, base, data = _read_layer(os.path.normpath(path), src, ("timing", "include"))
        _apply(src, timing, layer, base, data, lambda p: p in given)
    if timing_file is not None:
        holder = Source("--timing", {"timing": {}}, origin={("timing",): f"--timing {timing_file}"})
        layer, base, data = _read_layer(timing_file, holder, ("timing",))
        from_set = {p for p, label in src.origin.items() if label.startswith("--set ")}
        _apply(src, timing, layer, base, data, lambda p: any(p[:len(s)] == s or s[:len(p)] == p for s in from_set))


__all__ = ["resolve_timing", "profile_file", "PROFILE_DIR", "Problem"]
