"""Fitting a distribution of durations to what real upgrades recorded: pure arithmetic on samples.

A lognormal is fitted by maximum likelihood on the logs (mu the mean of the logs, sigma their
sample standard deviation) and written as the scenario format writes one, by its median
``exp(mu)`` and its 95th percentile ``exp(mu + 1.645 sigma)``. Each comes with a 95%
confidence interval: the median's from Student's t on the mean of the logs; the p95's from
the usual normal approximation of a normal quantile's estimate, whose variance is
``sigma^2 (1/n + z^2 / (2 (n - 1)))`` (e.g. Hahn and Meeker, Statistical Intervals, 1991,
on quantile intervals), with t for the multiplier. An empirical fit keeps the samples
themselves (a simulation draws one of them, each equally likely). One sample gives a
constant: nothing tells how it varies.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

Z95 = 1.6448536269514722  # the standard normal's 95th percentile
FLOOR_S = 0.001  # a duration recorded as 0 is taken as a millisecond: a lognormal needs a positive value
# two-sided 95% quantiles of Student's t, by degrees of freedom (any statistics table); beyond 30, 1.96
T975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
        2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042)


def t975(df: int) -> float:
    return T975[df - 1] if 1 <= df <= len(T975) else 1.96


@dataclass(frozen=True)
class Fit:
    """A fitted distribution: ``kind`` lognormal (``median``, ``p95`` and their 95% intervals),
    empirical (``values``) or constant (one sample); ``samples`` counts what it was fitted to."""

    kind: str
    samples: int
    median: float
    p95: float
    median_ci: tuple[float, float] | None = None
    p95_ci: tuple[float, float] | None = None
    values: tuple[float, ...] = ()

    def describe(self) -> str:
        if self.kind == "lognormal":
            return (f"lognormal median {self.median:.3g}s [{self.median_ci[0]:.3g}s, {self.median_ci[1]:.3g}s], "
                    f"p95 {self.p95:.3g}s [{self.p95_ci[0]:.3g}s, {self.p95_ci[1]:.3g}s], {self.samples} samples")
        if self.kind == "empirical":
            return f"empirical over {self.samples} samples (median {self.median:.3g}s, p95 {self.p95:.3g}s)"
        return f"constant {self.median:.3g}s (1 sample)"


def quantile(values: list[float], q: float) -> float:
    """The ``q`` quantile of ``values`` by linear interpolation between order statistics (R's type 7)."""
    ordered = sorted(values)
    at = (len(ordered) - 1) * q
    low = math.floor(at)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (at - low)


def fit_lognormal(samples: list[float]) -> Fit:
    """The lognormal of these durations (at least two), with 95% intervals of its median and p95."""
    if len(samples) < 2:
        raise ValueError(f"a lognormal needs at least 2 samples, got {len(samples)}")
    logs = [math.log(max(x, FLOOR_S)) for x in samples]
    n = len(logs)
    mu = sum(logs) / n
    sigma = math.sqrt(sum((x - mu) ** 2 for x in logs) / (n - 1))
    t = t975(n - 1)
    se_mu = sigma / math.sqrt(n)
    se_q = sigma * math.sqrt(1 / n + Z95 ** 2 / (2 * (n - 1)))
    q = mu + Z95 * sigma
    return Fit("lognormal", n, math.exp(mu), math.exp(q), (math.exp(mu - t * se_mu), math.exp(mu + t * se_mu)),
               (math.exp(q - t * se_q), math.exp(q + t * se_q)))


def fit_empirical(samples: list[float]) -> Fit:
    if not samples:
        raise ValueError("an empirical distribution needs at least 1 sample")
    values = tuple(sorted(round(max(x, 0.0), 3) for x in samples))
    return Fit("empirical", len(values), quantile(list(values), 0.5), quantile(list(values), 0.95), values=values)


def fit(samples: list[float], kind: str = "lognormal") -> Fit:
    """``kind`` (lognormal or empirical) fitted to ``samples``; a single sample is a constant."""
    if len(samples) == 1:
        return Fit("constant", 1, samples[0], samples[0])
    return fit_lognormal(samples) if kind == "lognormal" else fit_empirical(samples)


def scenario_distribution(f: Fit) -> dict:
    """The fit as the scenario format writes a distribution (durations in seconds, as text)."""
    seconds = lambda x: f"{round(x, 3):g}s"  # noqa: E731
    if f.kind == "lognormal":
        return {"lognormal": {"median": seconds(f.median), "p95": seconds(f.p95)}}
    if f.kind == "empirical":
        return {"empirical": [seconds(v) for v in f.values]}
    return {"constant": seconds(f.median)}
