"""The PE API in dispel4py's vocabulary."""

from __future__ import annotations

import logging

import pytest

from d4py import (
    BasePE,
    ConsumerPE,
    GenericPE,
    IterativePE,
    PEFailure,
    PortError,
    ProducerPE,
    SimpleFunctionPE,
    WorkflowGraph,
    run,
)


def test_ports_are_declared_as_dispel4py_kept_them():
    pe = GenericPE()
    pe._add_input("input", grouping=[0], tuple_type=["word", "count"])
    pe._add_output("output", tuple_type=int)
    assert pe.inputconnections["input"] == {"name": "input", "grouping": [0], "type": ["word", "count"]}
    assert pe.outputconnections["output"] == {"name": "output", "type": int}


def test_base_pe_ports_by_name_and_count():
    pe = BasePE(inputs=["a"], outputs=["b"], num_inputs=2, num_outputs=1)
    assert list(pe.inputconnections) == ["input0", "input1", "a"]
    assert list(pe.outputconnections) == ["output0", "b"]


def test_returned_mapping_is_written_and_write_works_too():
    class Both(GenericPE):
        def __init__(self):
            super().__init__()
            self._add_input("input")
            self._add_output("returned")
            self._add_output("written")

        def process(self, inputs):
            self.write("written", inputs["input"] * 10)
            return {"returned": inputs["input"]}

    class Source(ProducerPE):
        def _process(self, inputs):
            return 3

    graph = WorkflowGraph()
    both = Both()
    graph.connect(Source(), "output", both, "input")
    assert run(graph).outputs[both.id] == {"written": [30], "returned": [3]}


def test_write_to_unknown_port_names_pe_and_valid_ports():
    class Wrong(IterativePE):
        def _process(self, data):
            self.write("outptu", data)

    graph = WorkflowGraph()
    wrong = Wrong()
    graph.connect(SimpleFunctionPE(lambda x: x), "output", wrong, "input")
    with pytest.raises(PortError, match=r"unknown output 'outptu'; its outputs are: 'output'"):
        run(graph, {"PE_<lambda>": [{"input": 1}]})


def test_producer_process_may_take_no_inputs():
    class Bare(ProducerPE):
        def _process(self):
            self.write("output", "bare")

    class WithInputs(ProducerPE):
        def _process(self, inputs):
            return "with"

    graph = WorkflowGraph()
    graph.add(Bare())
    graph.add(WithInputs())
    assert sorted(run(graph).all_items()) == ["bare", "with"]


def test_consumer_and_simple_function_pe():
    seen = []

    class Keep(ConsumerPE):
        def _process(self, data):
            seen.append(data)

    graph = WorkflowGraph()
    fn = SimpleFunctionPE(lambda x, n: x + n, {"n": 5})
    graph.connect(fn, "output", Keep(), "input")
    run(graph, {fn.id: [1, 2]})
    assert seen == [6, 7]
    assert fn.name == "PE_<lambda>"


def test_log_works_in_init_and_names_the_pe(caplog):
    class Chatty(IterativePE):
        def __init__(self):
            super().__init__()
            self.log("built")

    with caplog.at_level(logging.INFO, logger="d4py.pe"):
        Chatty()
    assert "Chatty: built" in caplog.text


def test_running_does_not_change_the_users_pe_objects():
    class Counter(IterativePE):
        def __init__(self):
            super().__init__()
            self.seen = 0

        def _process(self, data):
            self.seen += 1
            return self.seen

    graph = WorkflowGraph()
    counter = Counter()
    graph.connect(SimpleFunctionPE(lambda x: x), "output", counter, "input")
    first = run(graph, {"PE_<lambda>": [1, 2, 3]}).output(counter.id)
    second = run(graph, {"PE_<lambda>": [1, 2, 3]}).output(counter.id)
    assert first == second == [1, 2, 3]
    assert counter.seen == 0


def test_consumer_failure_names_the_item():
    class Picky(ConsumerPE):
        def _process(self, data):
            if data == 2:
                raise ValueError("two")

    graph = WorkflowGraph()
    picky = Picky()
    graph.connect(SimpleFunctionPE(lambda x: x), "output", picky, "input")
    with pytest.raises(PEFailure, match=rf"PE '{picky.id}' \(instance 0\) failed in process on item {{'input': 2}}"):
        run(graph, {"PE_<lambda>": [1, 2, 3]})


def test_renamed_output_keeps_dispel4py_semantics():
    class Renamed(IterativePE):
        OUTPUT_NAME = "result"

        def _process(self, data):
            return data

    graph = WorkflowGraph()
    graph.connect(SimpleFunctionPE(lambda x: x), "output", Renamed(), "input")
    with pytest.raises(PortError, match="unknown output 'result'"):
        run(graph, {"PE_<lambda>": [1]})
