"""dispel4py 1.x behaviour for PEs written against its API, run by the d4py command as a user would."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

UNDECLARED = """
from dispel4py.base import IterativePE, ProducerPE
from dispel4py.workflow_graph import WorkflowGraph


class Numbers(ProducerPE):
    def _process(self, inputs):
        for i in range(4):
            self.write("output", i)


class Chatty(IterativePE):
    def log(self, msg):
        raise AssertionError("1.x engines replace a PE's own log; this one must never run")

    def _process(self, data):
        self.log(f"saw {data}")
        self.write("debug", -data)  # never declared
        return data


graph = WorkflowGraph()
graph.connect(Numbers(), "output", Chatty(), "input")
"""


def _d4py(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "d4py", "run", *args], cwd=folder, capture_output=True, text=True, timeout=120
    )


def test_an_undeclared_output_is_collected_with_one_warning_and_the_engine_logs(tmp_path):
    (tmp_path / "undeclared.py").write_text(UNDECLARED)
    done = _d4py(tmp_path, "undeclared.py", "--json")
    assert done.returncode == 0, done.stderr
    outputs = json.loads(done.stdout)["outputs"]["Chatty1"]
    assert sorted(outputs["debug"]) == [-3, -2, -1, 0] and sorted(outputs["output"]) == [0, 1, 2, 3]
    assert done.stderr.count("wrote to output 'debug', which it never declared") == 1
    assert "Chatty1: saw 3" in done.stderr  # d4py's log, not the PE's own


def test_through_d4py_s_own_api_an_undeclared_output_is_an_error(tmp_path):
    (tmp_path / "strict.py").write_text(
        "from d4py import IterativePE, WorkflowGraph\nfrom d4py.testing.pes import Numbers\n\n"
        "class Loose(IterativePE):\n    def _process(self, data):\n        self.write('debug', data)\n\n"
        "graph = WorkflowGraph()\ngraph.connect(Numbers(2), 'output', Loose(), 'input')\n"
    )
    done = _d4py(tmp_path, "strict.py")
    assert done.returncode == 2
    assert "wrote to unknown output 'debug'" in done.stderr


def test_a_users_own_module_under_dispel4py_new_is_found(tmp_path):
    package = tmp_path / "dispel4py" / "new"
    package.mkdir(parents=True)
    (package / "my_reducers.py").write_text("def total(values):\n    return sum(values)\n")
    (tmp_path / "uses_it.py").write_text(
        "from dispel4py.new.my_reducers import total\nfrom dispel4py.base import ProducerPE\n"
        "from dispel4py.workflow_graph import WorkflowGraph\n\n"
        "class Sum(ProducerPE):\n    def _process(self, inputs):\n        self.write('output', total([1, 2, 3]))\n\n"
        "graph = WorkflowGraph()\ngraph.add(Sum())\n"
    )
    done = _d4py(tmp_path, "uses_it.py", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["outputs"] == {"Sum0": {"output": [6]}}
