"""Options and helpers shared by the commands that talk to a live cluster (apply, snapshot,
precheck --live): kubectl's connection options, and the live port built from them. The
Kubernetes client (lightkube, httpx, asyncio) is imported only when a port is built, so that
the commands' options cost nothing to declare."""

from __future__ import annotations

import random
import sys
from typing import TYPE_CHECKING

from sim.errors import UsageError

if TYPE_CHECKING:
    from sim.adapters.live import LivePort
    from sim.scenario.model import LiveSettings

DEFAULT_REQUEST_TIMEOUT = "30s"


def add_kube_options(p) -> None:
    p.add_argument("--kubeconfig", metavar="FILE", help="kubeconfig file (default: $KUBECONFIG, merged, else "
                                                        "~/.kube/config, else the in-cluster service account)")
    p.add_argument("--context", metavar="CTX", help="kubeconfig context (default: the current one)")
    p.add_argument("-n", "--namespace", metavar="NS", help="only this namespace's workloads (nodes, the control plane "
                                                           "and add-ons are always the whole cluster's)")
    p.add_argument("--request-timeout", metavar="DURATION", default=DEFAULT_REQUEST_TIMEOUT,
                   help=f"give up on one API request after this long, then retry it (e.g. 10s, 2m; 0: never; "
                        f"default {DEFAULT_REQUEST_TIMEOUT})")
    p.add_argument("--as", dest="as_user", metavar="USER", help="act as this user (impersonation)")
    p.add_argument("--as-group", dest="as_groups", action="append", default=[], metavar="GROUP",
                   help="act as a member of this group (impersonation; repeatable)")


def request_timeout(text: str) -> float | None:
    """``--request-timeout`` as kubectl reads it: a duration, or a plain number of seconds; 0 means none."""
    from models.quantity import parse_duration

    try:
        seconds = parse_duration(text)
    except (TypeError, ValueError):
        raise UsageError(f"--request-timeout {text!r}: expected a duration such as 10s, 2m or 1h (0 for none)") from None
    return seconds or None


def impersonation(args) -> list[tuple[str, str]]:
    """The impersonation headers of --as and --as-group (kubernetes.io/docs/reference/access-authn-authz/
    authentication/#user-impersonation): groups need a user, as kubectl requires."""
    if args.as_groups and not args.as_user:
        raise UsageError("--as-group needs --as USER: the API impersonates a user and, optionally, their groups")
    headers = [("Impersonate-User", args.as_user)] if args.as_user else []
    return headers + [("Impersonate-Group", g) for g in args.as_groups]


def connect(args, settings: LiveSettings, pool_sizes=None, *, server_dry_run: bool = False, run_hooks: bool = True,
            timing=None, log=None, seed: int = 0, ledger_dir: str | None = None, report=None) -> LivePort:
    """A live port for the cluster the kubeconfig options name. ``timing`` (a scenario's) sets the
    least time between decisions and the eviction retry interval; ``seed`` seeds the retries' jitter."""
    from sim.adapters.kube_client import Kube
    from sim.adapters.kube_retry import RetryPolicy
    from sim.adapters.kubeconfig import load_config
    from sim.adapters.live import LivePort

    timeout = request_timeout(args.request_timeout)
    headers = impersonation(args)
    config = load_config(args.kubeconfig, args.context)
    log = log or (lambda text: print(text, file=sys.stderr, flush=True))
    policy = RetryPolicy(settings.retry_delay_s, settings.retry_max_delay_s, settings.api_outage_timeout_s)
    extra = {} if timing is None else {"reconcile_interval_s": timing.reconcile_interval_s,
                                       "eviction_retry_s": timing.eviction_retry_s}
    return LivePort(lambda: Kube(config, dry_run=server_dry_run, timeout=timeout, retry=policy, rng=random.Random(seed),
                                 headers=headers, log=log),
                    settings, pool_sizes, run_hooks=run_hooks, log=log, ledger_dir=ledger_dir, report=report,
                    namespace=args.namespace, **extra)
