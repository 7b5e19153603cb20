"""Workflow files whose names shadow other modules run on worker processes too."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def test_a_workflow_named_types_py_runs_on_workers(tmp_path):
    (tmp_path / "types.py").write_text(
        "from d4py import WorkflowGraph\nfrom d4py.testing.pes import Numbers, Pass\n\n"
        "class Twice(Pass):\n    def _process(self, data):\n        return 2 * data\n\n"
        "graph = WorkflowGraph()\ngraph.connect(Numbers(3), 'output', Twice(), 'input')\n"
    )
    d4py = Path(sys.executable).parent / "d4py"  # the command users type (python -m would put types.py first)
    # Not spawn: Python starts a spawned child with the working folder first on its path, so the
    # child's own start-up would import this types.py (docs/cli.md says so).
    command = [d4py, "run", "-b", "multi", "-n", "2", "types.py", "--json"]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert sorted(json.loads(done.stdout)["outputs"]["Twice1"]["output"]) == [0, 2, 4]


def test_items_a_dispel4py_pe_writes_to_an_undeclared_output_come_back_from_workers(tmp_path):
    (tmp_path / "loose.py").write_text(
        "from dispel4py.base import IterativePE\nfrom dispel4py.workflow_graph import WorkflowGraph\n"
        "from d4py.testing.pes import Numbers\n\n"
        "class Loose(IterativePE):\n    def _process(self, data):\n        self.write('extra', data * 10)\n\n"
        "graph = WorkflowGraph()\nloose = Loose()\nloose.numprocesses = 2\n"
        "graph.connect(Numbers(6), 'output', loose, 'input')\n"
    )
    d4py = Path(sys.executable).parent / "d4py"
    done = subprocess.run(
        [d4py, "run", "-b", "multi", "loose.py", "--json"], cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert sorted(json.loads(done.stdout)["outputs"]["Loose1"]["extra"]) == [0, 10, 20, 30, 40, 50]
    assert "which it never declared" in done.stderr


def test_multi_process_results_come_in_1x_s_layouts():
    import argparse

    from d4py import WorkflowGraph, _compat
    from d4py.testing.pes import Add, Numbers

    _compat.install()
    from dispel4py.new.multi_process import STATUS_TERMINATED, process

    graph = WorkflowGraph()
    source, add = Numbers(4), Add(1)
    graph.connect(source, "output", add, "input")
    for simple, expected in ((False, (add.id, "output")), (True, ("SimpleProcessingPE", (add.id, "output")))):
        results = process(graph, None, argparse.Namespace(num=2, simple=simple, results=True))
        rows = []
        while (row := results.get()) != STATUS_TERMINATED:
            rows.append(row)
        assert {row[:2] for row in rows} == {expected}
        assert sorted(row[2] if not simple else row[2][0] for row in rows) == [1, 2, 3, 4]
