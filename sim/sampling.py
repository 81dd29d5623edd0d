"""Seeded randomness: per-run seeds derived from a root seed, and sampling of durations.

Each run gets its own ``random.Random`` streams (one per purpose) seeded from text, so
the draws do not depend on Python's hash randomisation or on which process runs them.
"""

from __future__ import annotations

import hashlib
import math
import random

from models.timing import Dist

_Z95 = 1.6448536269514722  # the standard normal's 95th percentile


def derive_seed(root: int, *parts: object) -> int:
    """A 63-bit seed from the root seed and any labels (run index, stream name)."""
    text = ":".join(str(p) for p in (root, *parts))
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") >> 1


def stream(seed: int, name: str) -> random.Random:
    return random.Random(derive_seed(seed, name))


def sample(dist: Dist, rng: random.Random) -> float:
    p = dist.params
    if dist.kind == "constant":
        return p[0]
    if dist.kind == "uniform":
        return rng.uniform(p[0], p[1])
    if dist.kind == "triangular":
        return rng.triangular(p[0], p[2], p[1])
    if dist.kind == "lognormal":
        mu = math.log(p[0])
        sigma = (math.log(p[1]) - mu) / _Z95
        return rng.lognormvariate(mu, sigma)
    if dist.kind == "empirical":
        return p[rng.randrange(len(p))]
    if dist.kind == "exponential":
        return rng.expovariate(1.0 / p[0]) if p[0] > 0 else 0.0
    raise ValueError(f"unknown distribution {dist.kind!r}")


_Z99 = 2.3263478740408408  # the standard normal's 99th percentile


def plausible_range(dist: Dist) -> tuple[float, float]:
    """The values ``dist`` takes: its bounds (an empirical one's smallest and largest sample), or for
    a lognormal and an exponential (which have no upper bound) their 1st to 99th percentile."""
    p = dist.params
    if dist.kind == "constant":
        return p[0], p[0]
    if dist.kind == "uniform":
        return p[0], p[1]
    if dist.kind == "triangular":
        return p[0], p[2]
    if dist.kind == "empirical":
        return min(p), max(p)
    if dist.kind == "lognormal":
        mu = math.log(p[0])
        sigma = (math.log(p[1]) - mu) / _Z95
        return math.exp(mu - _Z99 * sigma), math.exp(mu + _Z99 * sigma)
    if dist.kind == "exponential":
        return 0.0, p[0] * math.log(100.0)
    raise ValueError(f"unknown distribution {dist.kind!r}")
