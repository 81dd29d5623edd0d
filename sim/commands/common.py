"""Helpers shared by the commands: reading versions and scenarios from arguments, JSON output."""

from __future__ import annotations

import argparse
import json
import sys

from models import compat
from models.version import KubeVersion
from sim.errors import UsageError
from sim.scenario import Scenario, load_scenario


def version_arg(text: str, option: str) -> KubeVersion:
    try:
        v = KubeVersion.parse(text)
    except ValueError as exc:
        raise UsageError(f"{option}: {exc}") from None
    problem = compat.version_problem(v)
    if problem:
        raise UsageError(f"{option}: {problem}")
    return v


def versions_arg(texts: list[str] | None, option: str) -> list[KubeVersion]:
    """Versions from repeated and comma-separated options; an empty item is an error."""
    out = []
    for text in texts or ():
        for part in text.split(","):
            if not part.strip():
                raise UsageError(f"{option} {text!r}: an empty version in the list; give versions separated by "
                                 "commas, e.g. 1.28,1.29")
            out.append(version_arg(part.strip(), option))
    return out


def add_set_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--set", dest="sets", action="append", default=[], metavar="PATH=VALUE",
                        help="override a scenario field, e.g. --set cluster.controlPlane.apiservers=1 (repeatable)")


def add_timing_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--timing", metavar="FILE", help="a timing file (midair calibrate writes one) over the "
                                                         "scenario's own timing; --set still wins")


def scenario_from(args: argparse.Namespace, path: str) -> Scenario:
    return load_scenario(path, args.sets, getattr(args, "timing", None))


def print_json(data) -> None:
    json.dump(data, sys.stdout, indent=2, sort_keys=False)
    sys.stdout.write("\n")
