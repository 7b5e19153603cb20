"""Failures on Spark: the PE and item are named (not a JVM stack trace), the session is stopped."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from d4py import OptionError, PEFailure, UsageError, WorkflowGraph, run
from d4py.testing.pes import Fails, Numbers, Pass
from d4py.testing.processes import processes_with

WORKFLOWS = Path(__file__).parent / "workflows"


def test_a_raising_pe_fails_the_run_naming_pe_instance_and_item():
    graph = WorkflowGraph()
    source, middle, faulty = Numbers(40), Pass(), Fails(bad=13)
    middle.numprocesses = 2
    graph.connect(source, "output", middle, "input")
    graph.connect(middle, "output", faulty, "input")
    with pytest.raises(PEFailure) as caught:
        run(graph, backend="spark")
    assert caught.value.pe_id == faulty.id and caught.value.instance == 0
    assert caught.value.item_text == "{'input': 13}"
    assert "ValueError: cannot handle 13" in caught.value.traceback_text


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


def test_partitions_that_feed_each_other_are_refused():
    graph = WorkflowGraph()
    a, b, c = Numbers(3), Pass(), Pass()
    graph.connect(a, "output", b, "input")
    graph.connect(b, "output", c, "input")
    graph.partitions = [[a, c], [b]]
    with pytest.raises(UsageError, match="'spark' cannot run partitions that feed each other"):
        run(graph, backend="spark")


def test_malformed_spark_configuration_is_a_usage_error():
    graph = WorkflowGraph()
    graph.add(Numbers(3))
    with pytest.raises(OptionError, match=r"-o conf=spark\.ui\.enabled: write Spark settings as key=value"):
        run(graph, backend="spark", options=["conf=spark.ui.enabled"])
