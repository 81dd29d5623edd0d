"""Where a sweep's runs execute: in this process, a local process pool, or a Dask cluster.

An executor maps ``fn(shared, item)`` over a list of items and yields the results in the
order of the items, whichever worker finished first. ``shared`` is what every call needs
and is the same for all of them (a sweep's scenarios and what is already known about each
strategy on them): it reaches each worker once, not with every item: through the pool's
initializer (a forked worker inherits it without pickling), or scattered to every Dask
worker with ``broadcast=True``. Items travel in small chunks, so that a run of a few
milliseconds does not pay a round trip of its own, while the last chunks still even out
runs of different lengths between the workers.

May import ``sim.errors`` and, for the Dask executor only, ``distributed``; ``fn`` must be
a module-level function (a worker imports it by name).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from functools import partial

from sim.errors import UsageError

_WORKER: tuple = ()  # in a pool's worker process: (fn, shared), set once by the pool's initializer


def chunk_size(items: int, workers: int, most: int) -> int:
    """Items per message: about 32 chunks per worker, at most ``most`` items in one, at least one."""
    return max(1, min(most, items // (workers * 32)))


def _install(fn: Callable, shared) -> None:
    global _WORKER
    _WORKER = (fn, shared)


def _call(item):
    fn, shared = _WORKER
    return fn(shared, item)


def _call_chunk(chunk: list, fn: Callable, shared) -> list:
    return [fn(shared, item) for item in chunk]


class SerialExecutor:
    name = "serial"

    def map(self, fn: Callable, items: list, shared=None) -> Iterator:
        return (fn(shared, item) for item in items)


class ProcessExecutor:
    """A local process pool of ``workers`` processes (one: this process, no pool)."""

    name = "process"
    most_per_chunk = 4  # about 0.2 s of the quickstart's runs: what the last worker to finish may have left

    def __init__(self, workers: int):
        self.workers = workers

    def map(self, fn: Callable, items: list, shared=None) -> Iterator:
        if self.workers <= 1 or len(items) <= 1:
            yield from (fn(shared, item) for item in items)
            return
        workers = min(self.workers, len(items))
        pool = ProcessPoolExecutor(workers, initializer=_install, initargs=(fn, shared))
        try:
            yield from pool.map(_call, items, chunksize=chunk_size(len(items), workers, self.most_per_chunk))
        finally:  # interrupted: the runs not yet started are dropped, not waited for
            pool.shutdown(wait=True, cancel_futures=True)


def version_problem(versions: dict[str, str], mine: str) -> str | None:
    """What is wrong with the midair versions of the Dask workers (worker address -> version), if anything."""
    other = sorted(f"{v} on {w}" for w, v in versions.items() if v != mine)
    if other:
        return f"the Dask workers must run midair {mine}, as here; found {', '.join(other)}"
    return None


class DaskExecutor:
    """Jobs on a Dask distributed cluster (``--executor dask --scheduler ADDR``; without an
    address, a cluster in this process). ``shared`` is scattered to every worker once."""

    name = "dask"
    most_per_chunk = 32  # a task costs the scheduler a round trip: fewer, larger ones

    def __init__(self, address: str | None):
        try:
            from distributed import Client
        except ImportError:
            raise UsageError("--executor dask needs the dask extra: pip install 'midair[dask]'") from None
        try:
            self.client = Client(address, timeout="5s") if address else Client(processes=False)
        except OSError as exc:
            raise UsageError(f"--scheduler {address}: cannot reach the Dask scheduler ({exc})") from None
        self._check_workers(address)

    def _check_workers(self, address: str | None) -> None:
        """Every worker runs this midair: another version could simulate other results, unseen."""
        from sim.version import midair_version

        try:
            versions = self.client.run(midair_version)
        except Exception as exc:  # a worker that cannot import midair cannot run the function
            self.client.close()
            raise UsageError(f"--scheduler {address}: a Dask worker cannot run midair ({type(exc).__name__}: {exc}); "
                             f"install midair[dask] {midair_version()} on every worker") from None
        problem = version_problem(versions, midair_version())
        if problem:
            self.client.close()
            raise UsageError(f"--scheduler {address}: {problem}")

    def threads(self) -> int:
        return sum(w.get("nthreads", 1) for w in self.client.scheduler_info()["workers"].values()) or 1

    def map(self, fn: Callable, items: list, shared=None) -> Iterator:
        if not items:
            return
        # a list of one: scatter() would scatter each value of a dict (or item of a list) on its own
        [everywhere] = self.client.scatter([shared], broadcast=True, hash=False)
        size = chunk_size(len(items), self.threads(), self.most_per_chunk)
        chunks = [items[k:k + size] for k in range(0, len(items), size)]
        futures = self.client.map(partial(_call_chunk, fn=fn), chunks, shared=everywhere, pure=False)
        try:
            for future in futures:  # in submission order
                yield from future.result()
        finally:
            self.client.cancel([*futures, everywhere])

    def close(self) -> None:
        self.client.close()


def executor_for(name: str, workers: int | None, scheduler: str | None):
    if name == "serial":
        return SerialExecutor()
    if name == "process":
        return ProcessExecutor(workers or os.cpu_count() or 1)
    if name == "dask":
        return DaskExecutor(scheduler)
    raise UsageError(f"--executor {name}: valid: serial, process, dask")
