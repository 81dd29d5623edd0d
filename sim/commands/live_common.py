"""Options and helpers shared by the commands that talk to a live cluster."""

from __future__ import annotations

import sys

from sim.adapters.kube_client import Kube
from sim.adapters.kubeconfig import load_config
from sim.adapters.live import LivePort
from sim.scenario.model import LiveSettings


def add_kube_options(p) -> None:
    p.add_argument("--kubeconfig", metavar="FILE", help="kubeconfig file (default: $KUBECONFIG, merged, else "
                                                        "~/.kube/config, else the in-cluster service account)")
    p.add_argument("--context", metavar="CTX", help="kubeconfig context (default: the current one)")


def connect(args, settings: LiveSettings, pool_sizes=None, *, server_dry_run: bool = False, run_hooks: bool = True,
            timing=None, log=None) -> LivePort:
    """A live port for the cluster the kubeconfig options name; ``timing`` (a scenario's) sets
    the least time between decisions and the eviction retry interval."""
    config = load_config(args.kubeconfig, args.context)
    log = log or (lambda text: print(text, file=sys.stderr, flush=True))
    extra = {} if timing is None else {"reconcile_interval_s": timing.reconcile_interval_s,
                                       "eviction_retry_s": timing.eviction_retry_s}
    return LivePort(lambda: Kube(config, dry_run=server_dry_run), settings, pool_sizes, run_hooks=run_hooks, log=log,
                    **extra)
