"""Summary statistics over runs: mean, p50, p95, max and a 95% confidence interval of the mean.

Percentiles interpolate linearly between order statistics (``models.percentiles``, which the
expectations share).
The interval is mean ± t(0.975, n-1) · s / √n with Student's t quantile computed for any
number of degrees of freedom (the regularized incomplete beta function, inverted by
bisection), so it is neither a table's last row nor the normal's 1.96 past 30 runs. Every
metric midair reports is a count or a duration, never below 0: its interval is cut off at 0
(the mean of non-negative values cannot be negative), and an interval whose runs all agree
has width 0.
"""

from __future__ import annotations

import functools
import math
import statistics

from models.percentiles import percentile


def _betacf(a: float, b: float, x: float) -> float:
    """The continued fraction of the incomplete beta function (modified Lentz's method)."""
    tiny, eps = 1e-300, 1e-15
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 400):
        for numerator in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                          -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < eps:
            break
    return h


def _incomplete_beta(a: float, b: float, x: float) -> float:
    """The regularized incomplete beta function I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def t_cdf(t: float, df: float) -> float:
    """P(T <= t) for Student's t with ``df`` degrees of freedom."""
    tail = 0.5 * _incomplete_beta(df / 2.0, 0.5, df / (df + t * t))
    return 1.0 - tail if t >= 0 else tail


@functools.lru_cache(maxsize=None)
def t_critical(df: int, p: float = 0.975) -> float:
    """The ``p`` quantile of Student's t (12.706 for 1 degree of freedom, 2.042 for 30, 1.984 for 100).
    Remembered per degrees of freedom: a summary asks for the same one once per metric and strategy,
    and each answer is 200 bisection steps."""
    if df <= 0:
        return math.nan
    lo, hi = 0.0, 1e6
    for _ in range(200):
        mid = (lo + hi) / 2.0
        if t_cdf(mid, df) < p:
            lo = mid
        else:
            hi = mid
    return round((lo + hi) / 2.0, 6)


def summarize(values: list[float]) -> dict:
    n = len(values)
    if n == 0:
        return {"n": 0, "mean": None, "p50": None, "p95": None, "max": None, "ci95": [None, None]}
    mean = statistics.fmean(values)
    half = t_critical(n - 1) * statistics.stdev(values) / math.sqrt(n) if n > 1 else 0.0
    r = lambda x: round(x, 3)  # noqa: E731
    return {"n": n, "mean": r(mean), "p50": r(percentile(values, 0.5)), "p95": r(percentile(values, 0.95)),
            "max": r(max(values)), "ci95": [r(max(0.0, mean - half)), r(mean + half)]}
