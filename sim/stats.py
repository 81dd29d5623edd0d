"""Summary statistics over runs: mean, p50, p95, max and a 95% confidence interval of the mean.

Percentiles interpolate linearly between order statistics (``models.percentiles``, which the
expectations share). The interval is mean ± t(0.975, n-1) · s / √n, Student's t for small samples.
"""

from __future__ import annotations

import math
import statistics

from models.percentiles import percentile

# Two-sided 95% critical values of Student's t for 1..30 degrees of freedom.
_T975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145,
         2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048,
         2.045, 2.042)


def t_critical(df: int) -> float:
    if df <= 0:
        return math.nan
    if df <= len(_T975):
        return _T975[df - 1]
    return statistics.NormalDist().inv_cdf(0.975)


def summarize(values: list[float]) -> dict:
    n = len(values)
    if n == 0:
        return {"n": 0, "mean": None, "p50": None, "p95": None, "max": None, "ci95": [None, None]}
    mean = statistics.fmean(values)
    half = t_critical(n - 1) * statistics.stdev(values) / math.sqrt(n) if n > 1 else 0.0
    r = lambda x: round(x, 3)  # noqa: E731
    return {"n": n, "mean": r(mean), "p50": r(percentile(values, 0.5)), "p95": r(percentile(values, 0.95)),
            "max": r(max(values)), "ci95": [r(mean - half), r(mean + half)]}
