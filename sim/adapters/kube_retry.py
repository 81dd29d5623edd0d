"""When to ask the Kubernetes API again, and how long to wait first: pure rules, no I/O.

Upstream, client-go retries a response that carries ``Retry-After`` (a 429 from API Priority
and Fairness, or a 5xx) up to 10 times, waiting what the header says
(k8s.io/client-go/rest/request.go ``checkWait``, rest/with_retry.go); API Priority and
Fairness answers 429 with ``Retry-After`` when a priority level's queues are full
(kubernetes.io/docs/concepts/cluster-administration/flow-control). An apiserver that
restarts (midair's own control-plane upgrade of a single apiserver does that) refuses
connections or answers 503 until it is back. midair goes further than client-go, as a
long-running operator must: reads and idempotent writes are retried on 429, 500, 502,
503, 504, timeouts and connection errors, with capped exponential backoff and equal
jitter (half the ceiling fixed, half drawn from a seeded generator), never sooner than a
``Retry-After``; a request gives up once it has been failing for ``give_up_after_s``
(``live.apiOutageTimeout``). TLS failures are not retried: a certificate does not heal
by itself.
"""

from __future__ import annotations

import random
import ssl
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """Backoff starts at ``initial_s``, doubles per attempt up to ``max_s``; a request that has been
    failing for ``give_up_after_s`` gives up; ``max_attempts`` bounds the tries (None: no bound)."""

    initial_s: float = 1.0
    max_s: float = 30.0
    give_up_after_s: float = 600.0
    max_attempts: int | None = None


def backoff_s(policy: RetryPolicy, attempt: int, rng: random.Random, retry_after_s: float | None = None) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1 for the first): equal jitter
    over the capped exponential ceiling, and never less than the server's ``Retry-After``."""
    ceiling = min(policy.max_s, policy.initial_s * 2 ** (attempt - 1))
    delay = ceiling / 2 + rng.uniform(0, ceiling / 2)
    return max(delay, retry_after_s) if retry_after_s is not None else delay


def parse_retry_after(value: str | None, now_epoch: float) -> float | None:
    """A ``Retry-After`` header in seconds: delay-seconds or an HTTP-date (RFC 9110 section 10.2.3);
    None when absent or unreadable."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now_epoch)


def tls_failure(exc: BaseException) -> ssl.SSLError | None:
    """The TLS error behind a connection failure (an expired or untrusted certificate), if any."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, ssl.SSLError):
            return exc
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return None


def retry_status(status: int, not_retried: frozenset[int] = frozenset()) -> bool:
    """Is an HTTP status worth asking again (429, 500, 502, 503, 504), unless the caller handles it?"""
    return status in RETRY_STATUSES and status not in not_retried
