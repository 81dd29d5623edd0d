"""Controllers that work in passes: a kick asks for another pass; a pass runs only while the
control plane lets the controller act (the API is up and it holds its lease)."""

from __future__ import annotations


class Kick:
    def __init__(self, env):
        self.env = env
        self.kicked = False
        self._wake = None

    def kick(self) -> None:
        self.kicked = True
        if self._wake is not None and not self._wake.triggered:
            self._wake.succeed()

    def event(self):
        self._wake = self.env.event()
        return self._wake


def run_passes(env, kick: Kick, available, when_available, work, delay=lambda: 0.0):
    """A simpy process: wait for a kick, wait until ``available()``, then ``work()``; forever.

    ``delay()`` is extra time the controller takes before a pass (a degraded controller).
    """
    while True:
        if not kick.kicked:
            yield kick.event()
        if not available():
            yield when_available()
            continue
        extra = delay()
        if extra:
            yield env.timeout(extra)
            if not available():
                continue
        kick.kicked = False
        work()
