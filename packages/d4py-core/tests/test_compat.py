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


def _compat_modules():
    from d4py import _compat

    _compat.install()
    import dispel4py.new.processor as processor
    import dispel4py.workflow_graph as workflow_graph

    return processor, workflow_graph


def test_processor_reads_run_input_and_answers_about_roots_as_1x_did():
    import argparse

    from d4py.testing.pes import Numbers, Pass

    processor, workflow_graph = _compat_modules()
    graph = workflow_graph.WorkflowGraph()
    source, sink = Numbers(2), Pass()
    graph.connect(source, "output", sink, "input")
    by_name = argparse.Namespace(file=None, data='{"Numbers": 7}', iter=1)
    assert processor.create_inputs(by_name, graph) == {source.id: 7}
    assert processor.create_inputs(argparse.Namespace(file=None, data=None, iter=3), graph) == {source.id: 3}
    for bad in (argparse.Namespace(file=None, data="{oops", iter=1), argparse.Namespace(file="/no/such", data=None)):
        try:
            processor.create_inputs(bad, graph)
        except ValueError:
            continue
        raise AssertionError(f"{bad} was accepted")
    roots = [node for node in graph.graph.nodes() if processor._is_root(node, graph)]
    assert [node.getContainedObject() for node in roots] == [source]


def test_processor_communications_route_as_their_groupings():
    processor, _ = _compat_modules()
    keyed = processor.GroupByCommunication(list(range(5)), "input", [0])
    assert keyed.getDestination({"input": [{"a": 1}, "x"]}) == keyed.getDestination({"input": [{"a": 1}, 2]})
    assert processor.AllToOneCommunication([3, 4]).getDestination(None) == [3]
    assert processor.OneToAllCommunication([3, 4]).getDestination(None) == [3, 4]
    turns = processor.ShuffleCommunication(1, [0, 1], [7, 8, 9])
    assert [turns.getDestination(None) for _ in range(4)] == [[8], [9], [7], [8]]


def test_dispel4py_graphs_check_ports_when_planned_and_number_pes_as_1x(monkeypatch):
    from d4py import PortError, build_plan
    from d4py.testing.pes import Numbers, Pass

    _, workflow_graph = _compat_modules()
    monkeypatch.setattr(workflow_graph.WorkflowNode, "node_counter", 0)  # as 1.x code resets it
    graph = workflow_graph.WorkflowGraph()
    source, sink = Numbers(1), Pass()
    graph.connect(source, "output", sink, "inptu")  # 1.x accepted this at connect time
    assert (source.id, sink.id) == ("Numbers0", "Pass1")
    try:
        build_plan(graph)
    except PortError as error:
        assert "PE 'Pass1' has no input 'inptu'; its inputs are: 'input'" in str(error)
    else:
        raise AssertionError("a missing port was planned")
