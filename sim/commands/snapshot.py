"""``midair snapshot`` and ``midair import``: a real cluster, or a dump of one, as a scenario file."""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from datetime import datetime, timezone

from models.state import APISERVER, ControlPlane, Instance
from sim.adapters.kube_state import DUMP_COMMAND, DumpError, build_state, group_dump
from sim.commands.common import version_arg
from sim.commands.live_common import add_kube_options, connect
from sim.errors import EXIT_OK, UsageError
from sim.output import atomic_write_text
from sim.scenario import load_scenario_text
from sim.scenario.export import scenario_from_state, to_yaml
from sim.scenario.model import LiveSettings


def _common(p) -> None:
    p.add_argument("-o", "--output", metavar="FILE", help="write the scenario here (default: standard output)")
    p.add_argument("--anonymize", action="store_true", help="replace pool, namespace and workload names with hashes")
    p.add_argument("--target", metavar="V", help="the target version to write (default: the next minor)")
    p.add_argument("--name", metavar="NAME", help="the scenario's name")
    p.add_argument("--pool-label", metavar="LABEL", help="node label naming a node's pool")


def add_parser(sub) -> None:
    p = sub.add_parser("snapshot", help="write a live cluster as a scenario, to rehearse its upgrade")
    add_kube_options(p)
    _common(p)
    p.set_defaults(run=run_snapshot)
    q = sub.add_parser("import", help="write a kubectl dump as a scenario",
                       description=f"DUMP is the output of: {DUMP_COMMAND} (apiservices feed the APIService "
                                   "pre-check; pvc and pv find pods on node-local volumes)")
    q.add_argument("dump", metavar="DUMP.json")
    _common(q)
    q.set_defaults(run=run_import)


def _write(args, state, source: str) -> int:
    target = version_arg(args.target, "--target") if args.target else None
    name = args.name or ("snapshot" if args.anonymize else source.replace("/", "-").replace(".", "-"))
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    data = scenario_from_state(state, name, target, args.anonymize, f"from {source} at {stamp}")
    text = to_yaml(data, f"midair scenario written from {source} at {stamp}.\n"
                         "Check the pools, add faults and timing, then: midair run FILE")
    load_scenario_text(text, args.output or "<snapshot>")  # what we write must load
    if args.output:
        atomic_write_text(args.output, text)
        print(f"wrote {args.output}: {len(state.nodes)} nodes in {len(state.pools)} pool(s), "
              f"{len(data['workloads'])} workload(s)", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return EXIT_OK


def run_snapshot(args) -> int:
    port = connect(args, LiveSettings(pool_label=args.pool_label))
    try:
        state = port.observe()
    finally:
        port.close()
    return _write(args, state, f"context {args.context}" if args.context else "the current context")


def run_import(args) -> int:
    try:
        with open(args.dump, encoding="utf-8") as fh:
            data = json.load(fh)
    except FileNotFoundError:
        raise UsageError(f"{args.dump}: no such file") from None
    except json.JSONDecodeError as exc:
        raise UsageError(f"{args.dump}:{exc.lineno}: not JSON ({exc.msg}); expected kubectl get ... -o json output") from None
    try:
        objects = group_dump(data)
    except DumpError as exc:
        raise UsageError(f"{args.dump}: {exc}") from None
    state = build_state(objects, pool_label=args.pool_label)
    if not state.control_plane.apiservers:
        newest = max(n.kubelet for n in state.nodes)
        state = replace(state, control_plane=ControlPlane((Instance(APISERVER, APISERVER, newest),)))
        print(f"{args.dump}: no control-plane pods in the dump; assuming the control plane runs {newest} "
              "(the newest kubelet)", file=sys.stderr)
    return _write(args, state, args.dump)
