"""Each worker's BLAS gets its share of the cores, or what the user chose."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from d4py import run
from d4py.loader import load_workflow
from d4py_multi.threads import usable_cores

threadpoolctl = pytest.importorskip("threadpoolctl")
pytest.importorskip("numpy")

WORKFLOW = Path(__file__).parent / "workflows" / "native_threads.py"
pytestmark = pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="needs two cores to tell one thread from many")


def _blas_threads_in_workers(*options: str, instances: int = 3) -> set[int]:
    graph = load_workflow(str(WORKFLOW))
    (report,) = [pe for pe in graph.nodes() if type(pe).__name__ == "BlasThreads"]
    report.numprocesses = instances  # with one, the plan fuses source and reporter: one worker
    result = run(graph, backend="multi", options=list(options))
    (reports,) = [ports["output"] for ports in result.outputs.values()]
    assert len(reports) == 6
    return {threads for report in reports for threads in report}


def _blas_threads_here() -> list[int]:
    return [pool["num_threads"] for pool in threadpoolctl.threadpool_info() if pool["user_api"] == "blas"]


@pytest.mark.parametrize("start_method", ["fork", "spawn"])
def test_workers_share_the_cores_out_and_the_driver_gets_its_threads_back(start_method, monkeypatch):
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.delenv(name, raising=False)
    before = _blas_threads_here()
    # Four workers (the source and three reporters) on this machine's cores: one thread each unless cores >= 8.
    expected = max(1, usable_cores() // 4)
    assert _blas_threads_in_workers(f"start_method={start_method}") == {expected}
    assert _blas_threads_here() == before


@pytest.mark.parametrize("start_method", ["fork", "spawn"])
def test_one_worker_gets_every_core_unless_the_option_says_otherwise(start_method, monkeypatch):
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.delenv(name, raising=False)
    cores = usable_cores()
    assert _blas_threads_in_workers(f"start_method={start_method}", instances=1) == {cores}
    assert _blas_threads_in_workers(f"start_method={start_method}", "native_threads=1", instances=1) == {1}


@pytest.mark.parametrize("start_method", ["fork", "spawn"])
def test_a_thread_count_set_in_the_environment_is_left_alone(start_method, monkeypatch):
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "2")
    # A spawned worker loads BLAS itself and reads the variable; a forked one keeps the driver's.
    expected = {2} if start_method == "spawn" else set(_blas_threads_here())
    assert _blas_threads_in_workers(f"start_method={start_method}") == expected
