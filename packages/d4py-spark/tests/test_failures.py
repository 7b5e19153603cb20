"""Failures on Spark: the PE and item are named (not a JVM stack trace), the session is stopped."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from d4py import OptionError, WorkflowGraph, run
from d4py.testing.pes import Numbers
from d4py.testing.processes import interruptible, processes_with

WORKFLOWS = Path(__file__).parent / "workflows"


def test_a_failed_run_from_the_command_line_stops_its_session():
    marker = f"D4PY_TEST_{uuid.uuid4().hex}"
    done = subprocess.run(
        [sys.executable, "-m", "d4py", "run", "-b", "spark", "fails.py"],
        cwd=WORKFLOWS,
        env={**os.environ, marker: "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1
    assert "PE 'Fails2' (instance 0) failed in process on item {'input': 13}" in done.stderr
    assert "Py4JJavaError" not in done.stderr
    assert processes_with(marker) == []  # the JVM went with the session


def test_malformed_spark_configuration_is_a_usage_error():
    graph = WorkflowGraph()
    graph.add(Numbers(3))
    with pytest.raises(OptionError, match=r"-o conf=spark\.ui\.enabled: write Spark settings as key=value"):
        run(graph, backend="spark", options=["conf=spark.ui.enabled"])


def test_ctrl_c_prints_one_line_exits_130_and_leaves_nothing(tmp_path):
    marker, fifo = f"D4PY_TEST_{uuid.uuid4().hex}", tmp_path / "ready"
    os.mkfifo(fifo)
    listening = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # open before the run, so the PE's write never waits
    process = subprocess.Popen(
        [sys.executable, "-m", "d4py", "run", "-b", "spark", "waits.py"],
        cwd=WORKFLOWS,
        env={**os.environ, marker: "1", "D4PY_READY_FIFO": str(fifo)},
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=interruptible,  # however the suite was started
    )
    try:
        readable, _, _ = select.select([listening], [], [], 300)  # the task says "ready" once inside process()
        assert readable and os.read(listening, 100) == b"ready\n", "the task never started"
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C does: the whole foreground group
        _, stderr = process.communicate(timeout=120)
        assert process.returncode == 130, stderr
        assert stderr.rstrip().endswith("interrupted") and "Traceback" not in stderr and "py4j" not in stderr
        assert processes_with(marker) == []  # the driver, its JVM and Spark's Python workers
    finally:
        os.close(listening)
        for pid in processes_with(marker):
            os.kill(pid, signal.SIGKILL)
        process.wait()
