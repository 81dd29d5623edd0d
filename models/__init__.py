"""midair's pure model: everything that decides.

Lives here: Kubernetes versions (``version``), quantities (``quantity``), object names
(``names``), the frozen cluster records (``state``; made fast from their fields: ``records``) and the indexes and counts of a view's nodes
(``node_index``; the snapshots of lists a view reads late: ``snapshot``), the version-skew policy (``skew``),
compatibility data (``compat``), the fault vocabulary of scenarios (``faults``), the static
upgrade plan (``plan``), actions, safety policies, pre-checks and the upgrade strategies
(``strategies``); services and kube-proxy's routing rules (``traffic``), cluster-autoscaler's
settings and scale-down rules (``autoscaling``), Karpenter's disruption budgets
(``karpenter``), cron schedules and windows in UTC (``schedule``); and the judgement of runs:
service-level expectations over runs (``expectations``, with ``percentiles``), the invariants
every run must keep (``invariants``) and the ranking of strategies (``ranking``); ``testing``
holds the public Hypothesis generators of these records (it alone may import Hypothesis, and
nothing here imports it).

May import: the standard library and networkx. Never simpy, matplotlib, a Kubernetes
client (lightkube, kubernetes), ``sim``, a clock, I/O or global random state. A test
enforces this.
"""
