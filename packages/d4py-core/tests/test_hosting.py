"""The backend author's interface: framing, the driver's collector, hosts over a plan's layout."""

from __future__ import annotations

import pytest

import d4py.hosting
from d4py import RunFailed, WorkflowGraph, build_plan
from d4py.hosting import DONE, FAILED, OUTPUT, REPORT, RunCollector, buffer_sizes, decode, encode
from d4py.plugins import make_plugin_manager
from d4py.runhooks import RunHooks
from d4py.testing.pes import Numbers, Pass

np = pytest.importorskip("numpy")


def test_every_name_in_all_is_there():
    assert all(hasattr(d4py.hosting, name) for name in d4py.hosting.__all__)


def test_a_framed_batch_keeps_arrays_out_of_the_pickle_and_arrives_writable():
    array = np.arange(100_000, dtype=np.float64)
    frame, raws = encode([(0, 1, 2, ("key", array)), (1, 0, 0, 3)])
    assert len(frame) < 1000 and [raw.nbytes for raw in raws] == [array.nbytes]
    assert buffer_sizes(frame) == (array.nbytes,)
    batch = decode(frame, [bytearray(raw) for raw in raws])
    received = batch[0][3][1]
    assert np.array_equal(received, array) and received.flags.writeable
    assert batch[1] == (1, 0, 0, 3)


def _plan():
    graph = WorkflowGraph()
    source, sink = Numbers(1), Pass()
    graph.connect(source, "output", sink, "input")
    return build_plan(graph), source, sink


def test_the_collector_gathers_outputs_in_plan_order_and_sums_counts():
    plan, source, sink = _plan()
    collector = RunCollector(plan, RunHooks(make_plugin_manager(autoload=False)), workers=[1, 2])
    others = collector.handle([(OUTPUT, sink.id, "output", 1), (DONE, 1, {source.id: 1}), (99, "mine")])
    assert others == [(99, "mine")] and not collector.done
    collector.handle([(OUTPUT, source.id, "extra", "x"), (DONE, 2, {sink.id: 5})])
    result = collector.result("test", 0.0)
    assert collector.done and list(result.outputs) == [source.id, sink.id]
    assert result.counts == {source.id: 1, sink.id: 5}


def test_the_collector_raises_a_failure_and_keeps_reports_when_it_is_not_the_driver():
    plan, _, sink = _plan()
    collector = RunCollector(plan, None, workers=[1])
    collector.handle([(REPORT, sink.id, 0, 1, True, ["seen"])])
    assert collector.reports == [(sink.id, 0, 1, True, ["seen"])]
    with pytest.raises(RunFailed, match="boom"):
        collector.handle([(FAILED, 1, RunFailed("boom"))])


def test_root_steps_feed_one_run_input_at_a_time_then_end_the_root():
    from d4py.backend import BatchOptions
    from d4py.hosting import HostTransport, Outbox, ProcessHost

    graph = WorkflowGraph()
    source, sink = Numbers(2), Pass()
    graph.connect(source, "output", sink, "input")
    plan = build_plan(graph, 3)
    batches: list = []
    to_driver = Outbox(batches.append, BatchOptions())
    transport = HostTransport(plan, lambda process: to_driver, to_driver)
    host = ProcessHost(plan, plan.layout[0], transport, RunHooks(make_plugin_manager(autoload=False)))
    host.start()
    finished = [host.finished for _ in host.root_steps()]
    assert finished == [False, False, False, True]
    transport.flush()
    assert [message[3] for batch in batches for message in batch if message[0] == OUTPUT] == [0, 1] * 3


def test_activity_discarded_is_never_reported_and_what_follows_is():
    from d4py.backend import BatchOptions
    from d4py.hosting import HostTransport, Outbox, ProcessHost
    from d4py.testing.observing import InstanceWatch

    graph = WorkflowGraph()
    source, sink = Numbers(1), Pass()
    graph.connect(source, "output", sink, "input")
    plan = build_plan(graph)
    manager = make_plugin_manager(autoload=False)
    manager.register(InstanceWatch())
    batches: list = []
    to_driver = Outbox(batches.append, BatchOptions())
    transport = HostTransport(plan, lambda process: to_driver, to_driver)
    host = ProcessHost(plan, [(plan.nodes[sink.id].partition, 0)], transport, RunHooks(manager))
    host.start()
    receive = host.receiver(plan.incoming[sink.id][0].index, 0)
    for item in range(3):  # items another process processes again and commits: this one's work is not kept
        receive(item)
    host.discard_activity()
    receive(3)
    host.finish()
    transport.flush()
    reports = [message[5][0] for batch in batches for message in batch if message[0] == REPORT]
    (report,) = [report for report in reports if report.pe_id == sink.id]
    assert report.reads == {"input": 1} and report.writes == {"output": 1}
