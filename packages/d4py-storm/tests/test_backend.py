"""The backend as d4py sees it: registration, options, what it refuses, and what it says is missing."""

from __future__ import annotations

import subprocess
import sys

import pytest

from d4py import UsageError, WorkflowGraph, run
from d4py.plugins import backend_registry
from d4py.testing.pes import Numbers, Pass
from d4py_storm.backend import StormBackend, StormOptions
from d4py_storm.submit import cluster_settings, find_storm, submit_command


def test_storm_is_registered_and_its_command_is_listed():
    assert backend_registry()["storm"] is StormBackend
    done = subprocess.run([sys.executable, "-m", "d4py", "--help"], capture_output=True, text=True)
    assert "storm" in done.stdout


def test_without_a_storm_command_the_backend_says_what_is_missing(monkeypatch, tmp_path):
    monkeypatch.delenv("STORM_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    reason = StormBackend.unavailable_reason()
    assert reason is not None and "no storm command" in reason and "STORM_HOME" in reason and "emulate=true" in reason
    assert "no such program" in (StormBackend.unavailable_reason(StormOptions(storm="no-such-storm")) or "")
    assert StormBackend.unavailable_reason(StormOptions(emulate=True)) is None


def test_a_storm_home_gives_the_command(monkeypatch, tmp_path):
    storm = tmp_path / "bin" / "storm"
    storm.parent.mkdir()
    storm.write_text("#!/bin/sh\n")
    storm.chmod(0o755)
    monkeypatch.setenv("STORM_HOME", str(tmp_path))
    assert find_storm() == str(storm)


def test_the_submission_names_flux_its_artifacts_and_the_nimbus():
    command = submit_command("storm", "t.jar", "t.yaml", "2.6.1", "nimbus.example.org:6627")
    assert command[:5] == ["storm", "jar", "t.jar", "org.apache.storm.flux.Flux", "t.yaml"]
    assert "org.apache.storm:flux-core:2.6.1,org.apache.storm:flux-wrappers:2.6.1" in command
    assert cluster_settings("nimbus.example.org:6627") == [
        "-c",
        'nimbus.seeds=["nimbus.example.org"]',
        "-c",
        "nimbus.thrift.port=6627",
    ]


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("workers=0", "-o workers=0: use 1 or more"),
        ("max_spout_pending=0", "-o max_spout_pending=0: use 1 or more"),
        ("nimbus=a b", "-o nimbus=a b: give a host or host:port"),
        ("name=x.y", "-o name=x.y: a topology name"),
    ],
)
def test_a_bad_option_is_a_usage_error_naming_the_flag(option, message, tmp_path):
    workflow = tmp_path / "flow.py"
    workflow.write_text(
        "from d4py import WorkflowGraph\nfrom d4py.testing.pes import Numbers\n\ngraph = WorkflowGraph()\n"
        "graph.add(Numbers(1))\n"
    )
    command = [sys.executable, "-m", "d4py", "run", "-b", "storm", "-o", "emulate=true", "-o", option, str(workflow)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and message in done.stderr, done.stderr


def test_a_partition_that_is_a_spout_fed_from_outside_is_refused_before_anything_starts():
    graph = WorkflowGraph()
    a, b, c = Numbers(3), Pass(), Numbers(2)
    graph.connect(a, "output", b, "input")
    graph.add(c)
    graph.partitions = [[c, b], [a]]
    with pytest.raises(UsageError, match=rf"partition \[{b.id}, {c.id}\]: it holds root '{c.id}'.*'{b.id}'"):
        run(graph, backend="storm", options=["emulate=true"])


def test_a_task_that_starts_twice_fails_the_run_since_its_state_is_lost():
    from d4py import RunFailed
    from d4py_storm.backend import _check_start
    from d4py_storm.topology import STARTED

    started: set[int] = set()
    _check_start((STARTED, 3, "Pass1", 7), started)
    with pytest.raises(RunFailed, match="task 7 of component 'Pass1' started again: Storm restarted its worker"):
        _check_start((STARTED, 3, "Pass1", 7), started)
