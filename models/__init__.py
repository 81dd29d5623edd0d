"""midair's pure model: everything that decides.

Lives here: Kubernetes versions (``version``), quantities (``quantity``), object names
(``names``), the frozen cluster records (``state``), the version-skew policy (``skew``),
compatibility data (``compat``), the fault vocabulary of scenarios (``faults``), the static
upgrade plan (``plan``), actions, safety policies, pre-checks and the upgrade strategies
(``strategies``), and the judgement of runs: service-level expectations over runs
(``expectations``, with ``percentiles``) and the invariants every run must keep
(``invariants``); ``testing`` holds the public Hypothesis generators of these records (it
alone may import Hypothesis, and nothing here imports it).

May import: the standard library and networkx. Never simpy, matplotlib, a Kubernetes
client (lightkube, kubernetes), ``sim``, a clock, I/O or global random state. A test
enforces this.
"""
