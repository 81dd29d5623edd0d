"""Errors the CLI prints without a traceback, and the exit codes they map to.

``UsageError`` and ``InputError``: the user's input is wrong (exit 2). ``ClusterError``: the
cluster could not be reached, refused a request, or its kubeconfig cannot be used (exit 3).
"""

from __future__ import annotations

from sim.scenario.source import InputError, Problem


class UsageError(Exception):
    """A bad command-line value; the message says what would be valid."""


class ClusterError(Exception):
    """The cluster could not be reached or refused us (a kubeconfig that cannot be used included);
    the message names the file, command, verb or resource and what to do."""


EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_BAD_INPUT = 2
EXIT_CLUSTER = 3

__all__ = ["InputError", "Problem", "UsageError", "ClusterError", "EXIT_OK", "EXIT_FINDINGS", "EXIT_BAD_INPUT",
           "EXIT_CLUSTER"]
