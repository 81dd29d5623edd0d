"""Shared test set-up: Hypothesis profiles and small helpers.

HYPOTHESIS_PROFILE=ci (the default) keeps the suite fast and its examples fixed (derandomized: every
run draws the same ones); HYPOTHESIS_PROFILE=thorough (`make test-thorough`) runs many more, new each
time. A slow property takes ``examples(n)``: n examples under ci, the profile's count otherwise.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# ci: the same examples on every run (a CI run must not pass or fail by the draw); thorough: new draws each time
settings.register_profile("ci", max_examples=40, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def examples(ci: int) -> int:
    """How many examples a slow property runs: ``ci`` in the ci profile, all of the profile's otherwise."""
    profile = os.environ.get("HYPOTHESIS_PROFILE", "ci")
    return ci if profile == "ci" else settings.get_profile(profile).max_examples
