"""Testing upgrade plans and strategies by running the simulator.

Lives here: the watch over one run's invariants and expectations (``watch``), the stateful
test of the reconcile loop that users subclass for their own strategy (``machine``), and
the pytest plugin (``pytest_plugin``, loaded with ``pytest -p midair.pytest_plugin``).
``sim.fuzz`` searches with the watch.

May import ``models``, ``sim``, Hypothesis (``machine``; the ``testing`` extra) and pytest
(``pytest_plugin``). ``watch`` needs neither, and this package imports none of its modules, so
importing one costs only what that one needs. Nothing outside ``sim.testing``, ``sim.fuzz``
and the ``fuzz`` command imports from here.
"""
