"""midair's acting half: everything that runs, simulates, talks to clusters or writes files.

Lives here: scenario loading (``scenario``), the strategy registry, the simpy world,
faults, the cluster adapters, the reconcile loop, the garbage collector's setting while
a run lasts (``collector``), metrics, sweeps, expectations measured
over them (``expectations``), the search for bad luck (``fuzz``), reports and the CLI:
its commands (``commands``), the output formats every command prints in (``render``),
the comparison of strategies that run, sweep and the report share (``comparison``),
shell completion (``completion``), terminal colour (``style``) and midair's version; and
``testing`` (the run watch, the stateful test of the loop, the pytest plugin).

May import ``models`` and any dependency. ``models`` must never import from here.
"""
