"""midair's acting half: everything that runs, simulates, talks to clusters or writes files.

Lives here: scenario loading (``scenario``), the strategy registry, the simpy world,
faults, the cluster adapters, the reconcile loop, metrics, sweeps, reports and the CLI.

May import ``models`` and any dependency. ``models`` must never import from here.
"""
