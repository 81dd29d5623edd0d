"""Find strategies by name: built-in, registered through an entry point, or ``module:attr``.

Entry points of the group ``midair.strategies`` map a name to a strategy class, e.g. in
a plugin's pyproject.toml::

    [project.entry-points."midair.strategies"]
    canary = "my_pkg.canary:Canary"

A strategy class has a ``PARAMS`` tuple of ``models.strategies.params.Param`` and takes
those parameters as keyword arguments.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points

from models.strategies import BUILTIN
from models.strategies.params import Param

GROUP = "midair.strategies"


class UnknownStrategy(LookupError):
    pass


def _entry_points() -> dict[str, str]:
    return {ep.name: ep.value for ep in entry_points(group=GROUP)}


def known_names() -> list[str]:
    return sorted(set(BUILTIN) | set(_entry_points()))


def _import(target: str, name: str) -> type:
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
        obj = module
        for part in attr.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        raise UnknownStrategy(f"strategy {name!r} names {target!r}, which cannot be imported ({exc})") from None
    missing = [a for a in ("decide", "PARAMS") if not hasattr(obj, a)]
    if not isinstance(obj, type) or missing:
        raise UnknownStrategy(f"strategy {name!r} names {target!r}, which is not a strategy class (it has no "
                              f"{' or '.join(missing) or 'class'}; subclass models.strategies.base.Strategy)")
    return obj


def strategy_class(name: str) -> type:
    """The class behind a strategy name; ``UnknownStrategy`` says which names exist."""
    if name in BUILTIN:
        return _import(BUILTIN[name][0], name)
    if ":" in name:  # module:attr names no entry point (and scanning the installed ones is slow)
        return _import(name, name)
    eps = _entry_points()
    if name in eps:
        return _import(eps[name], name)
    raise UnknownStrategy(f"unknown strategy {name!r}; known: {', '.join(known_names())} "
                          "(or a class as module:attr)")


def params_for(name: str) -> tuple[Param, ...]:
    if name in BUILTIN:
        return BUILTIN[name][1]
    return tuple(strategy_class(name).PARAMS)
