"""Percentiles over run values, one definition for the sweep's summary and the expectations.

Linear interpolation between order statistics (numpy's default method): the p-th
percentile of ``[a, b]`` with p = 0.95 is ``a + 0.95 (b - a)``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable


def percentile(values: Iterable[float], q: float) -> float:
    """The ``q``-quantile (0 to 1) of ``values``; nan when there are none."""
    xs = sorted(values)
    if not xs:
        return math.nan
    pos = (len(xs) - 1) * q
    lo = math.floor(pos)
    hi = math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)
