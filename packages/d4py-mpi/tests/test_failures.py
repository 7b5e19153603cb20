"""Failures end the MPI job cleanly: the PE is named, nothing hangs, no rank is left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from d4py import BackendUnavailable, PEFailure, RunFailed, WorkflowGraph, run
from d4py.testing.pes import Fails, KillsItsProcess, Numbers, Pass
from d4py.testing.processes import interruptible, processes_with
from d4py_mpi.leftovers import segments

WORKFLOWS = Path(__file__).parent / "workflows"


@pytest.fixture
def marker(monkeypatch: pytest.MonkeyPatch):
    """An environment variable every process of the test's job inherits; none may outlive the test."""
    name = f"D4PY_TEST_{uuid.uuid4().hex}"
    monkeypatch.setenv(name, "1")
    yield name
    left = processes_with(name)
    for pid in left:
        if pid != os.getpid():
            os.kill(pid, signal.SIGKILL)
    assert [pid for pid in left if pid != os.getpid()] == [], "processes were left behind"


def test_a_killed_rank_fails_the_run(marker):
    graph = WorkflowGraph()
    source, killer, after = Numbers(20), KillsItsProcess(at=5), Pass()
    graph.connect(source, "output", killer, "input")
    graph.connect(killer, "output", after, "input")
    graph.partitions = [[source], [killer], [after]]
    with pytest.raises(RunFailed, match="before rank 0 reported: a rank died or was killed"):
        run(graph, backend="mpi")


def test_a_missing_mpiexec_is_named_with_what_to_do():
    graph = WorkflowGraph()
    graph.add(Numbers(3))
    with pytest.raises(BackendUnavailable, match="-o mpiexec=no-such-mpiexec: no such program"):
        run(graph, backend="mpi", options=["mpiexec=no-such-mpiexec"])


def test_ctrl_c_ends_every_rank(marker):
    process = subprocess.Popen(
        [sys.executable, "-m", "d4py", "run", "-b", "mpi", "blocking.py"],
        cwd=WORKFLOWS,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=interruptible,  # however the suite was started
    )
    try:
        assert process.stderr is not None
        assert process.stderr.readline().strip() == "ready"  # a rank is inside process() and blocks there
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C does: the whole foreground group
        _, stderr = process.communicate(timeout=60)
        assert process.returncode == 130, stderr
        assert "interrupted" in stderr and "Traceback" not in stderr and "BAD TERMINATION" not in stderr
    finally:
        process.kill()
        process.wait()


def test_a_failed_run_leaves_no_shared_memory_behind(marker):
    before = segments()
    graph = WorkflowGraph()
    source, failing = Numbers(10), Fails(bad=3)
    graph.connect(source, "output", failing, "input")
    with pytest.raises(PEFailure):
        run(graph, backend="mpi")
    assert set(segments()) - set(before) == set()  # MPICH's file of the aborted job is gone from /dev/shm
