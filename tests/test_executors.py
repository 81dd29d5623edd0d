"""The executors: the same results in the same order on each, what every job shares sent once,
and the Dask path through a real scheduler on loopback."""

import pytest

from sim.cli import main
from sim.executors import ProcessExecutor, SerialExecutor, chunk_size, version_problem


def sweep(tmp_path, name, *extra):
    out = tmp_path / name
    code = main(["sweep", "scenarios/seed-example.yaml", "--runs", "3", "--out", str(out), *extra])
    assert code == 0
    return out


def scaled(shared, item):
    return shared["factor"] * item


@pytest.mark.parametrize("items, workers, most, size", [
    (1000, 2, 4, 4),
    (100, 2, 4, 1),
    (0, 2, 4, 1),
    (10_000, 8, 32, 32),
    (2000, 4, 32, 15),
], ids=["quickstart-1000-runs", "few-runs", "none", "capped", "about-32-chunks-per-worker"])
def test_chunk_size(items, workers, most, size):
    assert chunk_size(items, workers, most) == size


@pytest.mark.parametrize("executor", [SerialExecutor(), ProcessExecutor(1), ProcessExecutor(2)],
                         ids=["serial", "one-process", "pool"])
def test_every_executor_hands_each_item_the_shared_value_and_keeps_the_order(executor):
    assert list(executor.map(scaled, list(range(300)), {"factor": 3})) == [3 * k for k in range(300)]


@pytest.mark.parametrize("versions, problem", [
    ({"tcp://10.0.0.5:40111": "0.1.0", "tcp://10.0.0.6:40111": "0.1.0"}, None),
    ({"tcp://10.0.0.5:40111": "0.1.0", "tcp://10.0.0.6:40111": "0.0.9"},
     "the Dask workers must run midair 0.1.0, as here; found 0.0.9 on tcp://10.0.0.6:40111"),
    ({}, None),
], ids=["same", "one-other", "no-workers-yet"])
def test_dask_workers_must_run_this_midair(versions, problem):
    assert version_problem(versions, "0.1.0") == problem


def test_dask_on_a_local_cluster_over_loopback_gives_byte_identical_results(tmp_path):
    distributed = pytest.importorskip("distributed")  # the dask extra; the dev extra installs it
    serial = sweep(tmp_path, "serial", "--executor", "serial")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        dask = sweep(tmp_path, "dask", "--executor", "dask", "--scheduler", cluster.scheduler_address)
    assert (dask / "results.json").read_bytes() == (serial / "results.json").read_bytes()
    assert (dask / "summary.csv").read_bytes() == (serial / "summary.csv").read_bytes()
