"""Failures on Spark: the PE and item are named (not a JVM stack trace), the session is stopped."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from d4py import OptionError, WorkflowGraph, run
from d4py.testing.pes import Numbers
from d4py.testing.processes import processes_with

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
