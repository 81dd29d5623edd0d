"""``midair apply``: run a strategy on a live cluster. Dry-run by default.

Pre-checks run first on the live state; a blocking finding stops it unless ``--force``;
a hook the plan needs and the scenario does not set is an error before anything is done.
Without ``--execute`` nothing is changed: it prints what it would do and why, decision
after decision, until the decisions repeat (nothing changes in a dry run), then the whole
upgrade rehearsed on a simulated copy of the cluster. With
``--server-dry-run`` every mutating request is sent with dryRun=All and no hook runs.
With ``--execute`` it acts, journalling the memo and every action to a file after
each decision; ``--resume JOURNAL`` continues after a crash or Ctrl-C, adopting the hooks
the stopped run left (``JOURNAL.hooks``). A journal that ends in a halt is not continued
(its reason is printed, exit 1) unless ``--retry-halted`` clears the halt. An API that
stays unreachable past ``live.apiOutageTimeout`` halts the run, journalled.
"""

from __future__ import annotations

import os
import shlex
import sys
from typing import TYPE_CHECKING

from models.plan import CONTROL_PLANE, WORKERS, trailing_instances
from sim.adapters.port import PortEvent, SubmitResult
from sim.commands.common import add_set_option, scenario_from
from sim.commands.live_common import add_kube_options, connect
from sim.commands.run import select_strategies
from sim.errors import EXIT_FINDINGS, EXIT_OK, UsageError
from sim.style import colour_allowed

if TYPE_CHECKING:
    from sim.runner import Journal, LogEntry

# The Kubernetes client, the simulator (for the rehearsal) and the runner are imported where a
# run uses them: declaring the command's options (midair --help) must not load them.

MAX_DRY_DECISIONS = 5


def add_parser(sub) -> None:
    p = sub.add_parser("apply", help="run a strategy on a live cluster (dry-run unless --execute)")
    p.add_argument("scenario", metavar="SCENARIO")
    add_kube_options(p)
    p.add_argument("--strategy", metavar="NAME", help="which of the scenario's strategies (default: the first)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--execute", action="store_true", help="act on the cluster")
    mode.add_argument("--server-dry-run", action="store_true", help="send mutating requests with dryRun=All; run no hook")
    p.add_argument("--journal", metavar="FILE", help="where to journal the run (default: SCENARIO-NAME.journal)")
    p.add_argument("--resume", metavar="JOURNAL", help="continue the run journalled in JOURNAL")
    p.add_argument("--retry-halted", action="store_true",
                   help="with --resume: clear the halt the journal ends in and go on (the strategy looks at the "
                        "cluster afresh)")
    p.add_argument("--force", action="store_true", help="go ahead despite blocking pre-check findings")
    add_set_option(p)
    p.set_defaults(run=run)


def _check_hooks(plan, traits, live, path: str) -> None:
    """Every hook the plan certainly needs is set (else one error, before anything is done);
    a hook it may need is a note."""
    steps = {p.kind for p in plan.phases}
    needed, maybe = [], []
    if CONTROL_PLANE in steps:
        needed.append(("upgradeControlPlane", "the control plane is not at the target"))
    if WORKERS in steps:
        if traits.in_place and not traits.creates_nodes:
            needed.append(("upgradeNode", f"{traits.strategy} upgrades nodes in place"))
        elif traits.creates_nodes and not traits.in_place:
            needed.append(("provisionNode", f"{traits.strategy} adds new nodes"))
        else:
            maybe += [("upgradeNode", f"{traits.strategy} may upgrade nodes in place"),
                      ("provisionNode", f"{traits.strategy} may add nodes")]
    missing = [(h, why) for h, why in needed if not live.hook(h)]
    if missing:
        raise UsageError(f"{path}: " + "; ".join(f"{why}, but live.hooks.{h} is not set" for h, why in missing)
                         + " (docs/live.md, Hooks)")
    for h, why in maybe:
        if not live.hook(h):
            print(f"# note: {why}, and live.hooks.{h} is not set: it halts if it has to", file=sys.stderr)


def resume_command(args, journal: str, retry_halted: bool = False) -> str:
    """The command that continues this run: the same scenario, cluster, strategy and --set."""
    argv = ["midair", "apply", args.scenario]
    for option, value in (("--kubeconfig", args.kubeconfig), ("--context", args.context),
                          ("--namespace", args.namespace), ("--as", args.as_user), ("--strategy", args.strategy)):
        if value:
            argv += [option, value]
    for group in args.as_groups:
        argv += ["--as-group", group]
    for assignment in args.sets:
        argv += ["--set", assignment]
    return shlex.join([*argv, "--execute", "--resume", journal, *(["--retry-halted"] if retry_halted else [])])


class EventSink:
    """The live port's events (operations completed, outages waited out) as journal notes; those that
    come before the journal exists wait for it."""

    def __init__(self):
        self.journal: Journal | None = None
        self.early: list[LogEntry] = []

    def __call__(self, event: PortEvent) -> None:
        from sim.runner import LogEntry

        entry = LogEntry(event.t, event.kind, event.action, event.detail,
                         f"{event.duration_s:g}s" if event.duration_s is not None else "", event.duration_s,
                         event.component)
        if self.journal is None:
            self.early.append(entry)
        else:
            self.journal.note(entry)

    def attach(self, journal: Journal) -> None:
        self.journal = journal
        for entry in self.early:
            journal.note(entry)
        self.early = []


def path_summary(plan, state) -> str:
    """The plan's steps as the header shows them, with the control-plane instances a stopped upgrade left behind."""
    steps = [f"{s.component} {s.version}" for s in plan.path.steps]
    behind = trailing_instances(state)
    if behind:
        steps.insert(0, f"control-plane {plan.path.start} (finishing {', '.join(behind)})")
    return ", ".join(steps) or "nothing to do"


def _open_journal(args):
    """The journal to resume, checked: it exists, it is a journal, and it may be continued."""
    from sim.runner import FileJournal, JournalError

    try:
        journal = FileJournal(args.resume, resume=True)
    except JournalError as exc:
        raise UsageError(str(exc)) from None
    return journal


def _print(entries) -> None:
    for e in entries:
        print(e.line(), flush=True)


def run(args) -> int:
    from models.plan import plan_for_params
    from sim.adapters.dryrun import DryRunPort
    from sim.adapters.kube_client import KubeUnreachable
    from sim.prechecks import check_cluster, format_findings, traits_for
    from sim.runner import FileJournal, JournalError, LogEntry, reconcile
    from sim.simulate import build_strategy

    scenario = scenario_from(args, args.scenario)
    spec = select_strategies(scenario, [args.strategy] if args.strategy else None)[0]
    if args.retry_halted and not args.resume:
        raise UsageError("--retry-halted clears the halt of a journalled run: add --resume JOURNAL")
    journal: Journal
    if args.resume:
        journal = _open_journal(args)
        if not args.execute:
            raise UsageError("--resume continues a run that acts on the cluster: add --execute")
        h = journal.header
        if (h.get("strategy"), h.get("target")) != (spec.label, str(scenario.target)):
            raise UsageError(f"{args.resume} journals strategy {h.get('strategy')} to {h.get('target')}, "
                             f"not {spec.label} to {scenario.target}")
        if journal.halted and not args.retry_halted:
            print(f"# halted: {journal.halted}")
            print(f"# {args.resume} ends in a halt; once you have looked into it, continue with: "
                  f"{resume_command(args, args.resume, retry_halted=True)}")
            return EXIT_FINDINGS
    path = args.resume or args.journal or f"{scenario.name}.journal"
    ledger = f"{path}.hooks" if args.execute else None
    if args.execute and not args.resume and os.path.exists(ledger) and os.listdir(ledger):
        raise UsageError(f"{ledger} holds the hook runs of an earlier upgrade: continue it with --resume {path}, "
                         "or move both away")
    sink = EventSink()
    port = connect(args, scenario.live, journal.header.get("pool_sizes") if args.resume else None,
                   server_dry_run=args.server_dry_run, run_hooks=args.execute, timing=scenario.timing,
                   seed=scenario.seed, ledger_dir=ledger, report=sink)
    server = port.kube.server
    try:
        if args.resume and journal.header.get("server") not in (None, server):
            raise UsageError(f"{args.resume} journals an upgrade of the cluster at {journal.header['server']}; this "
                             f"kubeconfig points at {server}: pick that cluster with --kubeconfig or --context")
        state = port.observe()
        if not args.resume:
            port.pool_sizes = {p.name: p.count for p in state.pools}
        findings = check_cluster(state, scenario.target, spec, scenario.manifests)
        if findings:
            print(format_findings(findings, colour_allowed(sys.stdout)), end="")
        blocks = [f for f in findings if f.severity == "BLOCK"]
        if blocks and not args.force and not args.resume:
            print(f"# blocked: {len(blocks)} pre-check finding(s) block the upgrade; fix them, or --force")
            return EXIT_FINDINGS
        try:
            plan = plan_for_params(state, scenario.target, spec.kwargs())
        except ValueError as exc:
            raise UsageError(f"{args.scenario}: {exc}") from None
        _check_hooks(plan, traits_for(spec, state), scenario.live, args.scenario)
        steps = path_summary(plan, state)
        mode = "execute" if args.execute else "server-side dry run" if args.server_dry_run else "dry run"
        print(f"# {scenario.name}: {state.version} -> {scenario.target} with {spec.label} ({mode}); path: {steps}")
        if not args.execute:
            return _dry(port if args.server_dry_run else DryRunPort(port), spec, plan, scenario, state)
        if not args.resume:
            header = {"scenario": scenario.name, "strategy": spec.label, "target": str(scenario.target),
                      "pool_sizes": port.pool_sizes, "server": server}
            try:
                journal = FileJournal(path, header=header)
            except JournalError as exc:
                raise UsageError(str(exc)) from None
            print(f"# journal: {path} (continue after a crash with: {resume_command(args, path)})")
        journal.listener = _print
        sink.attach(journal)
        if journal.halted:  # --retry-halted: the strategy decides afresh from what the cluster shows
            memo = {k: v for k, v in journal.memo.items() if k != "halted"}
            journal.note(LogEntry(port.now(), "retry", "Retry", f"--retry-halted: the halt is cleared ({journal.halted})"),
                         memo)
        port.adopt()
        try:
            # a scenario's horizon counts simulated seconds from the start; live, from now
            horizon = port.now() + scenario.horizon_s if scenario.horizon_s is not None else None
            outcome = port.drive(reconcile(port, build_strategy(spec), plan, journal, safety=scenario.safety,
                                           horizon=horizon))
        except KeyboardInterrupt:
            print(f"\ninterrupted; continue with: {resume_command(args, journal.path)}", file=sys.stderr)
            return 130
        except KubeUnreachable as exc:
            journal.note(LogEntry(port.now(), "halt", "Halt", str(exc)))
            print(f"# halted: {exc}")
            print(f"# continue once the API answers again with: {resume_command(args, journal.path, retry_halted=True)}")
            return EXIT_FINDINGS
    finally:
        port.close()
    if outcome.completed:
        print("# completed: every component is at the target")
        return EXIT_OK
    print(f"# halted: {outcome.halted}")
    return EXIT_FINDINGS


class _Once:
    """A dry-run port that sends each action once: the next decision repeats it, as nothing changed."""

    def __init__(self, port):
        self.port = port
        self.sent: set[str] = set()

    def __getattr__(self, name):
        return getattr(self.port, name)

    def submit(self, action):
        if action.describe() in self.sent:
            return SubmitResult(True, "dry run: shown already")
        self.sent.add(action.describe())
        return self.port.submit(action)


def _dry(port, spec, plan, scenario, state) -> int:
    """Decide until the decisions repeat (in a dry run the cluster does not change), then show
    the whole upgrade rehearsed on a simulated copy of the cluster."""
    from sim.commands.rehearse import rehearse
    from sim.runner import Journal, reconcile
    from sim.simulate import build_strategy

    journal = Journal()
    loop = reconcile(_Once(port), build_strategy(spec), plan, journal, safety=scenario.safety)
    seen: list[list[str]] = []
    try:
        next(loop)
        for _ in range(MAX_DRY_DECISIONS):
            latest = journal.entries[sum(len(x) for x in seen):]
            actions = [f"{e.kind} {e.action}" for e in latest]
            if seen and actions == seen[-1]:
                break
            seen.append(actions)
            for e in latest:
                print(e.line().replace(" action  ", " would   ", 1))
            loop.send(None)
    except StopIteration:
        pass
    print("# the whole upgrade, rehearsed on a simulated copy of this cluster (no faults):")
    for line in rehearse(state, scenario, spec):
        print(line)
    what = "sent with dryRun=All" if getattr(port, "recorded", None) is None else "applied"
    print(f"# dry run: nothing {what if what == 'applied' else 'persisted (' + what + ')'}; "
          f"{len(seen)} decision(s) shown; --execute to act")
    return EXIT_OK
