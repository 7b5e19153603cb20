"""Jobs the user starts: ``mpiexec -n N d4py run -b mpi WORKFLOW``, with more ranks than cores."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from d4py.testing import as_multiset
from d4py_mpi.launch import find_mpiexec, mpi_environment
from d4py_mpi.leftovers import segments

WORKFLOWS = Path(__file__).parent / "workflows"


def _d4py(*args: str, ranks: int | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "d4py", "run", *args]
    if ranks is not None:
        command = [find_mpiexec(None), "-n", str(ranks), *command]
    env = mpi_environment(os.environ)
    return subprocess.run(command, cwd=WORKFLOWS, env=env, capture_output=True, text=True, timeout=300)


def _outputs(done: subprocess.CompletedProcess[str]) -> dict[str, dict[str, list]]:
    assert done.returncode == 0, done.stderr
    outputs: dict[str, dict[str, list]] = json.loads(done.stdout)["outputs"]
    return outputs


@pytest.mark.parametrize("ranks", [6, 9])
def test_fan_in_and_string_keys_across_ranks_give_the_result_of_simple(ranks):
    expected = _outputs(_d4py("-n", str(ranks - 1), "stations.py", "--json"))
    got = _outputs(_d4py("-b", "mpi", "stations.py", "--json", ranks=ranks))
    assert {pe: as_multiset(items) for pe, items in got.items()} == {
        pe: as_multiset(items) for pe, items in expected.items()
    }
    rows = next(iter(got.values()))["output"]
    assert len(rows) == 14 and sum(row[1] for row in rows) == 500  # every reading, each station once


def test_the_world_size_is_the_budget_and_only_rank_0_prints():
    done = _d4py("-b", "mpi", "stations.py", "--json", ranks=9)
    result = json.loads(done.stdout)  # one JSON document: worker ranks print nothing
    assert result["backend"] == "mpi" and sum(result["counts"].values()) == 2 + 500 + 14
    rows = next(iter(result["outputs"].values()))["output"]
    # 8 ranks for PE instances: 2 producers and the sink keep one each, PerStation gets the other 5.
    assert {row[3] for row in rows} <= set(range(5)) and max(row[3] for row in rows) > 2


def test_fewer_ranks_than_pes_share_ranks_and_give_the_result_of_simple():
    expected = _outputs(_d4py("-n", "2", "stations.py", "--json"))
    got = _outputs(_d4py("-b", "mpi", "stations.py", "--json", ranks=3))  # 4 PEs on 2 ranks
    assert {pe: as_multiset(items) for pe, items in got.items()} == {
        pe: as_multiset(items) for pe, items in expected.items()
    }


def test_a_budget_beyond_the_job_is_a_usage_error_naming_how_many_ranks():
    done = _d4py("-b", "mpi", "-n", "6", "stations.py", ranks=3)
    assert done.returncode == 2
    assert "this plan needs 7 MPI ranks" in done.stderr and "mpiexec -n 7 or more, or give -n 2 or less" in done.stderr
    assert done.stderr.count("error:") == 1  # said once, by rank 0


def test_a_raising_pe_ends_the_job_naming_pe_and_item():
    before = segments()
    done = _d4py("-b", "mpi", "fails.py", ranks=5)
    assert set(segments()) - set(before) == set()  # the aborting rank removed MPICH's file from /dev/shm
    assert done.returncode == 1
    assert "PE 'Fails2' (instance 0) failed in process on item {'input': 13}" in done.stderr
    assert "ValueError: cannot handle 13" in done.stderr
