"""``midair snapshot`` and ``midair import``: a real cluster, or a dump of one, as a scenario file.

A snapshot also reads the cluster's deployed Helm 3 releases and writes, beside the scenario,
``NAME.helm.yaml``: the apiVersion, kind and name of every object in them (Helm's own
release annotations naming the release, nothing else of the manifests: no Secret data), listed
in the scenario's ``manifests`` so that ``midair precheck`` finds APIs the target removes.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import replace
from datetime import datetime, timezone

import yaml

from models.state import APISERVER, ControlPlane, Instance
from models.version import KubeVersion
from sim.adapters.kube_state import DUMP_COMMAND, DumpError, build_state, group_dump
from sim.commands.common import version_arg
from sim.commands.live_common import add_kube_options, connect
from sim.errors import EXIT_OK, UsageError
from sim.output import atomic_write_many
from sim.scenario import load_scenario_text
from sim.scenario.export import hashed, scenario_from_state, to_yaml
from sim.scenario.model import LiveSettings
from sim.version import midair_version


SCENARIO_FORMATS = ("yaml", "json")


def _common(p) -> None:
    p.add_argument("-o", "--output", metavar="FORMAT", default="yaml",
                   help="write the scenario as yaml (the default) or json")
    p.add_argument("--out", metavar="FILE", help="write the scenario to FILE (default: standard output)")
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


def _destination(args) -> tuple[str, str | None]:
    """The format and the file to write. ``-o FILE`` (before ``-o`` named a format) still writes
    FILE, with a note to use ``--out``."""
    if args.output in SCENARIO_FORMATS:
        return args.output, args.out
    if args.out or args.output.lower() in ("text", "markdown", "csv"):
        raise UsageError(f"-o {args.output}: a scenario is written as {' or '.join(SCENARIO_FORMATS)}")
    print(f"{args.prog} {args.command}: -o FILE is deprecated: -o names the format; write to a file with --out "
          f"{args.output}", file=sys.stderr)
    return "yaml", args.output


def helm_objects(releases, anonymize: bool = False) -> str:
    """The releases' objects as YAML documents of apiVersion, kind and name, each annotated with its release
    (as Helm annotates what it manages), for the removed-API check."""
    from sim.manifests import scan_text

    docs = []
    for release in releases:
        namespace, name = release.namespace, release.name
        if anonymize:
            namespace, name = hashed("ns", namespace), hashed("r", release.key)
        docs.append(f"# helm release {namespace}/{name} revision {release.revision}" +
                    ("" if anonymize else f" (chart {release.chart})"))
        refs, _ = scan_text(release.manifest, release.label)
        for ref in refs:
            meta = {"name": hashed("o", f"{release.key}/{ref.name}") if anonymize else ref.name,
                    "annotations": {"meta.helm.sh/release-name": name, "meta.helm.sh/release-namespace": namespace}}
            docs.append(yaml.safe_dump({"apiVersion": ref.api_version, "kind": ref.kind, "metadata": meta},
                                       sort_keys=False).rstrip() + "\n---")
    return "\n".join(docs) + "\n"


def _write(args, state, source: str, fmt: str, out: str | None, helm=None) -> int:
    target = version_arg(args.target, "--target") if args.target else None
    unknown = [n.name for n in state.nodes if n.kubelet == KubeVersion(0, 0)]
    if unknown:
        shown = ", ".join(unknown[:5]) + (", ..." if len(unknown) > 5 else "")
        raise UsageError(f"{source}: {len(unknown)} node(s) report no kubelet version (status.nodeInfo.kubeletVersion): "
                         f"{shown}; midair cannot rehearse an upgrade of nodes whose version it does not know: give "
                         "their objects with status (kubectl get nodes -o json shows it)")
    name = args.name or ("snapshot" if args.anonymize else source.replace("/", "-").replace(".", "-"))
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    data = scenario_from_state(state, name, target, args.anonymize, f"from {source} at {stamp}")
    files: dict[str, bytes] = {}
    releases = helm[0] if helm else []
    if releases and out:
        helm_file = os.path.splitext(out)[0] + ".helm.yaml"
        files[helm_file] = helm_objects(releases, args.anonymize).encode()
        data["manifests"] = [os.path.basename(helm_file)]
    elif releases:
        print(f"# {len(releases)} Helm release(s) left out: give --out FILE to keep their API versions for midair "
              "precheck", file=sys.stderr)
    for problem in (helm[1] if helm else []):
        print(f"# helm: {problem}", file=sys.stderr)
    text = to_yaml(data, f"midair scenario written by midair {midair_version()} from {source} at {stamp}.\n"
                         "Check the pools, add faults and timing, then: midair run FILE")
    load_scenario_text(text, out or "<snapshot>")  # what we write must load
    if fmt == "json":
        text = json.dumps(data, indent=2) + "\n"
    if out:
        atomic_write_many({out: text.encode(), **files})
        print(f"wrote {out}: {len(state.nodes)} nodes in {len(state.pools)} pool(s), "
              f"{len(data['workloads'])} workload(s)" + (f"; {', '.join(files)}: the objects of {len(releases)} "
                                                         "Helm release(s)" if files else ""), file=sys.stderr)
    else:
        sys.stdout.write(text)
    return EXIT_OK


def run_snapshot(args) -> int:
    fmt, out = _destination(args)
    port = connect(args, LiveSettings(pool_label=args.pool_label))
    try:
        state = port.observe()
        helm = port.helm_releases()
    finally:
        port.close()
    return _write(args, state, f"context {args.context}" if args.context else "the current context", fmt, out, helm)


def run_import(args) -> int:
    fmt, out = _destination(args)
    expected = f"expected the output of: {DUMP_COMMAND}"
    try:
        with open(args.dump, encoding="utf-8") as fh:
            data = json.load(fh)
    except FileNotFoundError:
        raise UsageError(f"{args.dump}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"{args.dump}: this is a directory; {expected}") from None
    except UnicodeDecodeError as exc:
        raise UsageError(f"{args.dump}: not text (byte {exc.start} is not UTF-8); {expected}") from None
    except OSError as exc:
        raise UsageError(f"{args.dump}: cannot be read ({exc.strerror or exc}); {expected}") from None
    except json.JSONDecodeError as exc:
        raise UsageError(f"{args.dump}:{exc.lineno}: not JSON ({exc.msg}); expected kubectl get ... -o json output") from None
    try:
        objects = group_dump(data)
    except DumpError as exc:
        raise UsageError(f"{args.dump}: {exc}") from None
    state = build_state(objects, pool_label=args.pool_label)
    if not state.control_plane.apiservers and all(n.kubelet != KubeVersion(0, 0) for n in state.nodes):
        newest = max(n.kubelet for n in state.nodes)
        state = replace(state, control_plane=ControlPlane((Instance(APISERVER, APISERVER, newest),)))
        print(f"{args.dump}: no control-plane pods in the dump; assuming the control plane runs {newest} "
              "(the newest kubelet)", file=sys.stderr)
    return _write(args, state, args.dump, fmt, out)
