"""The simple backend beyond the contract: flat memory, long chains, failures."""

from __future__ import annotations

import tracemalloc

import pytest

from d4py import IterativePE, PEFailure, WorkflowGraph, run
from d4py.testing.pes import Add, Numbers, Summary


def _pipeline(count, stages):
    graph = WorkflowGraph()
    previous = Numbers(count)
    for _ in range(stages):
        stage = Add(1)
        graph.connect(previous, "output", stage, "input")
        previous = stage
    total = Summary()
    graph.connect(previous, "output", total, "input")
    return graph, total


def test_memory_stays_flat_whatever_the_stream_length():
    peaks = []
    for count in (10_000, 200_000):
        graph, total = _pipeline(count, 4)
        tracemalloc.start()
        result = run(graph)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        assert result.output(total.id)[0][0] == count
    # Twenty times the items, and the peak does not grow with them (dispel4py 1.2.1 buffers whole streams).
    assert peaks[1] < peaks[0] + 256 * 1024


def test_a_chain_of_five_hundred_stages_streams_depth_first():
    graph, total = _pipeline(100, 500)
    ((count, value, _),) = run(graph).output(total.id)
    assert (count, value) == (100, sum(range(500, 600)))


def test_failure_in_postprocess_names_the_stage():
    class Late(IterativePE):
        def _process(self, data):
            return data

        def _postprocess(self):
            raise RuntimeError("flush failed")

    graph = WorkflowGraph()
    late = Late()
    graph.connect(Numbers(2), "output", late, "input")
    with pytest.raises(PEFailure, match=rf"PE '{late.id}' \(instance 0\) failed in postprocess$") as caught:
        run(graph)
    assert "flush failed" in caught.value.traceback_text
    assert caught.value.item_text is None


def test_failure_pickles_with_its_text():
    import pickle

    failure = PEFailure("Pe0", 2, "process", {"input": 3}, has_item=True, traceback_text="tb")
    copy = pickle.loads(pickle.dumps(failure))
    assert str(copy) == str(failure) and copy.traceback_text == "tb" and copy.instance == 2
