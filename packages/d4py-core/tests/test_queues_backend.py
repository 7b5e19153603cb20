"""The example backend in queues_backend.py: a transport plus a launcher is a whole backend."""

from __future__ import annotations

import pytest
import queues_backend

from d4py import PEFailure, UsageError, WorkflowGraph, run
from d4py.plugins import make_plugin_manager
from d4py.testing import assert_same_items
from d4py.testing.observing import InstanceWatch
from d4py.testing.pes import Add, Fails, KeyCounter, Numbers, Pair, Pass, Summary, WhereAmI, Words


@pytest.fixture
def manager():
    plugins = make_plugin_manager(autoload=False)
    plugins.register(queues_backend)
    return plugins


def test_a_keyed_fan_in_gives_the_result_of_simple(manager):
    graph = WorkflowGraph()
    first, second, pair = Words(["a", "b", "a", "c"]), Words(["b", "b"]), Pair()
    counter = KeyCounter([0], numprocesses=3)
    graph.connect(first, "output", pair, "input")
    graph.connect(second, "output", pair, "input")
    graph.connect(pair, "output", counter, "input")
    expected = run(graph, 5, processes=4)
    got = run(graph, 5, backend="queues", processes=4, plugin_manager=manager)
    assert_same_items([row[:2] for row in got.output(counter.id)], [row[:2] for row in expected.output(counter.id)])
    assert got.counts == expected.counts


def test_plugins_observe_every_instance_and_n_bounds_the_processes(manager):
    graph = WorkflowGraph()
    source, add, total = Numbers(100), Add(1), Summary(grouping="global")
    where = [WhereAmI() for _ in range(4)]
    graph.connect(source, "output", add, "input")
    graph.connect(add, "output", total, "input")
    for sink in where:
        graph.connect(source, "output", sink, "input")
    watch = InstanceWatch()
    result = run(graph, backend="queues", processes=2, plugins=[watch], plugin_manager=manager)
    assert [(n, s) for n, s, _ in result.output(total.id)] == [(100, sum(range(1, 101)))]
    assert watch.totals("reads") == result.counts
    assert len({pid for sink in where for pid, _ in result.output(sink.id)}) <= 2


def test_failures_and_declared_capabilities_are_core_s(manager):
    graph = WorkflowGraph()
    source, faulty = Numbers(20), Fails(bad=7)
    graph.connect(source, "output", faulty, "input")
    with pytest.raises(PEFailure) as caught:
        run(graph, backend="queues", plugin_manager=manager)
    assert caught.value.pe_id == faulty.id and "cannot handle 7" in caught.value.traceback_text
    cyclic = WorkflowGraph()
    a, b, c = Numbers(3), Pass(), Pass()
    cyclic.connect(a, "output", b, "input")
    cyclic.connect(b, "output", c, "input")
    cyclic.partitions = [[a, c], [b]]
    with pytest.raises(UsageError, match="'queues' cannot run partitions that feed each other"):
        run(cyclic, backend="queues", plugin_manager=manager)
