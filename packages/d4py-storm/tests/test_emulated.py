"""Whole workflows through real components under the emulator give what the simple backend gives."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import uuid
from typing import Any

import pytest

from d4py import PEFailure, RunFailed, WorkflowGraph, run
from d4py.testing import assert_same_items
from d4py.testing import pes as p
from d4py.testing.processes import interruptible, processes_with
from d4py_storm.emulator import Emulator

EMULATED = ["emulate=true"]
WORDS = ["storm", "flux", "spout", "bolt", "storm", "tuple", "storm", "flux", "ζ", ""]


def _same_as_simple(graph: WorkflowGraph, inputs: Any = None, processes: int | None = None) -> None:
    expected = run(graph, inputs, backend="simple", processes=processes)
    got = run(graph, inputs, backend="storm", options=EMULATED, processes=processes)
    assert set(got.outputs) == set(expected.outputs)
    for pe_id, ports in expected.outputs.items():
        for port, items in ports.items():
            assert_same_items(got.outputs[pe_id][port], items)
    assert got.counts == expected.counts


def test_a_pipeline():
    graph = WorkflowGraph()
    source, add, double = p.Numbers(30), p.Add(1), p.Multiply(2)
    add.numprocesses = 3
    graph.connect(source, "output", add, "input")
    graph.connect(add, "output", double, "input")
    _same_as_simple(graph, 2)


def test_a_word_count_by_key_lands_each_word_where_simple_puts_it():
    graph = WorkflowGraph()
    words, pair, count = p.Words(WORDS), p.Pair(), p.KeyCounter([0], numprocesses=3)
    pair.numprocesses = 2
    graph.connect(words, "output", pair, "input")
    graph.connect(pair, "output", count, "input")
    expected = run(graph, 3, backend="simple").output(count.id)
    got = run(graph, 3, backend="storm", options=EMULATED).output(count.id)
    # (word, count, instance token): tokens differ per run, the grouping of words into instances must not
    assert sorted(row[:2] for row in got) == sorted(row[:2] for row in expected)
    by_instance = {frozenset(w for w, _, t in rows if t == token) for rows in [got] for token in {t for *_, t in rows}}
    expected_groups = {frozenset(w for w, _, t in expected if t == token) for token in {t for *_, t in expected}}
    assert by_instance == expected_groups


def test_global_gathers_on_one_task_and_postprocess_writes_flow_on():
    graph = WorkflowGraph()
    source, spread, total, after = p.Numbers(40), p.Pass(), p.Summary(grouping="global", numprocesses=3), p.Pass()
    spread.numprocesses = 3
    graph.connect(source, "output", spread, "input")
    graph.connect(spread, "output", total, "input")
    graph.connect(total, "output", after, "input")
    rows = run(graph, backend="storm", options=EMULATED).output(after.id)
    assert [(count, value) for count, value, _ in rows] == [(40, sum(range(40)))]


def test_a_tee_and_a_fan_in_under_a_process_budget():
    graph = WorkflowGraph()
    first, second, merge, left, right = p.Numbers(10), p.Numbers(10, start=100), p.Pass(), p.Add(1), p.Add(2)
    merge.numprocesses = 4
    graph.connect(first, "output", merge, "input")
    graph.connect(second, "output", merge, "input")
    graph.connect(merge, "output", left, "input")
    graph.connect(merge, "output", right, "input")
    _same_as_simple(graph, processes=5)


def test_items_json_cannot_carry_travel_signed_and_come_back_as_they_were():
    np = pytest.importorskip("numpy")
    graph = WorkflowGraph()
    source, double = p.Arrays(count=3, size=1000), p.Multiply(2)
    graph.connect(source, "output", double, "input")
    got = run(graph, backend="storm", options=EMULATED).output(double.id)
    assert_same_items(got, [2 * np.full(1000, i, dtype=np.float64) for i in range(3)])


def test_a_raising_pe_fails_the_run_naming_pe_and_item_and_leaves_no_component_behind(monkeypatch):
    marker = f"D4PY_STORM_TEST_{uuid.uuid4().hex}"
    monkeypatch.setenv(marker, "1")  # the tasks inherit it; this process's own /proc environ does not show it
    graph = WorkflowGraph()
    source, faulty = p.Numbers(20), p.Fails(bad=13)
    graph.connect(source, "output", faulty, "input")
    with pytest.raises(PEFailure, match=rf"PE '{faulty.id}' \(instance 0\) failed in process on item .*13"):
        run(graph, backend="storm", options=EMULATED)
    assert processes_with(marker) == []


def test_a_component_that_dies_fails_the_run_as_a_dead_storm_worker_would():
    graph = WorkflowGraph()
    source, dies = p.Numbers(10), p.KillsItsProcess(at=4)
    graph.connect(source, "output", dies, "input")
    with pytest.raises(RunFailed, match=rf"{dies.id} task \d+ \(pid \d+\) exited with code -9"):
        run(graph, backend="storm", options=EMULATED)


def test_what_pes_print_goes_to_the_worker_log_in_order(tmp_path):
    workflow = tmp_path / "talking.py"
    workflow.write_text(
        "from d4py import WorkflowGraph\nfrom d4py.testing.pes import Numbers, Pass\n\n"
        "class Talk(Pass):\n    def _process(self, data):\n        print(f'talk printed {data}', flush=True)\n\n"
        "graph = WorkflowGraph()\ngraph.connect(Numbers(8), 'output', Talk(), 'input')\n"
    )
    command = [sys.executable, "-m", "d4py", "run", "-b", "storm", "-o", "emulate=true", str(workflow)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "talk printed" not in done.stdout  # stdout belongs to the protocol inside a component
    said = [int(line.split()[-1]) for line in done.stderr.splitlines() if line.startswith("talk printed")]
    assert said == list(range(8))


def test_a_built_topology_runs_without_a_driver_and_logs_what_it_collects(tmp_path):
    workflow = tmp_path / "wordy.py"
    workflow.write_text(
        "from d4py import WorkflowGraph\nfrom d4py.testing.pes import Words, Pair\n\n"
        "graph = WorkflowGraph()\ngraph.connect(Words(['a', 'b']), 'output', Pair(), 'input')\n"
    )
    command = [sys.executable, "-m", "d4py", "storm", "build", str(workflow), "-o", str(tmp_path / "built"), "-i", "2"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines: list[str] = []
    ended = threading.Event()

    def log(line: str) -> None:
        lines.append(line)
        if "every task has ended" in line:
            ended.set()

    emulator = Emulator(tmp_path / "built" / "topology.yaml", log=log)
    # The YAML names python3 as the supervisors' Python; here it is this one, with d4py installed.
    for spec, _ in emulator.specs.values():
        spec["constructorArgs"][0][0] = sys.executable
    emulator.start()
    try:
        assert ended.wait(timeout=120), lines
    finally:
        emulator.kill()
    outputs = sorted(line.split(": ", 2)[2] for line in lines if "d4py output" in line)
    assert outputs == ["('a', 1)", "('a', 1)", "('b', 1)", "('b', 1)"]
    assert emulator.problem() is None and emulator.errors == []


def test_ctrl_c_ends_an_emulated_run_with_130_and_leaves_no_task_behind(tmp_path):
    workflow = tmp_path / "blocks.py"
    workflow.write_text(
        "from d4py import WorkflowGraph\nfrom d4py.testing.pes import Numbers, Blocks\n\n"
        "graph = WorkflowGraph()\ngraph.connect(Numbers(3), 'output', Blocks(), 'input')\n"
    )
    marker = f"D4PY_STORM_TEST_{uuid.uuid4().hex}"
    command = [sys.executable, "-m", "d4py", "run", "-b", "storm", "-o", "emulate=true", str(workflow)]
    run_ = subprocess.Popen(
        command, stderr=subprocess.PIPE, text=True, env={**os.environ, marker: "1"}, preexec_fn=interruptible
    )
    assert run_.stderr is not None
    while "ready" not in run_.stderr.readline():  # the PE has its first item and blocks
        pass
    run_.send_signal(signal.SIGINT)
    assert run_.wait(timeout=120) == 130
    assert "interrupted" in run_.stderr.read()
    run_.stderr.close()
    assert processes_with(marker) == [], "tasks outlived the run"
