"""Errors that mean "the user's input is wrong": printed without a traceback, exit code 2."""

from __future__ import annotations

from sim.scenario.source import InputError, Problem


class UsageError(Exception):
    """A bad command-line value; the message says what would be valid."""


EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_BAD_INPUT = 2

__all__ = ["InputError", "Problem", "UsageError", "EXIT_OK", "EXIT_FINDINGS", "EXIT_BAD_INPUT"]
