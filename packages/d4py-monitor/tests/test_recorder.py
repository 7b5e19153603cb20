"""Runs recorded on every backend: what each instance did, where it ran, and how the run ended."""

from __future__ import annotations

import os

import pytest

import d4py
from d4py import PEFailure, WorkflowGraph
from d4py.testing.pes import Fails, KeyCounter, Numbers, Pair, Pass, Words

ITEMS = 300


def counted() -> WorkflowGraph:
    """Numbers -> Pass -> Pair -> KeyCounter (3 instances, group_by the number)."""
    graph = WorkflowGraph()
    source, middle, pair, counter = Numbers(ITEMS), Pass(), Pair(), KeyCounter(grouping=[0], numprocesses=3)
    graph.connect(source, "output", middle, "input")
    graph.connect(middle, "output", pair, "input")
    graph.connect(pair, "output", counter, "input")
    return graph


def per_pe(run, what):
    totals = {}
    for instance in run.instances:
        totals[instance.pe] = totals.get(instance.pe, 0) + getattr(instance, what)
    return totals


@pytest.mark.parametrize(("backend", "processes"), [("simple", None), ("multi", 6), ("mpi", 6)])
def test_every_instance_is_recorded_with_what_it_read_and_wrote(backend, processes, recorded):
    result = d4py.run(counted(), backend=backend, processes=processes)
    (run,) = recorded()
    assert (run.backend, run.status, run.error) == (backend, "ok", None)
    source, middle, pair, counter = run.workflow["graph"]["pes"]
    assert per_pe(run, "items_in") == {source["id"]: 1, middle["id"]: ITEMS, pair["id"]: ITEMS, counter["id"]: ITEMS}
    assert per_pe(run, "items_out")[pair["id"]] == ITEMS
    assert run.counts == result.counts
    counters = [i for i in run.instances if i.pe == counter["id"]]
    assert [i.index for i in counters] == list(range(counter["instances"]))
    assert sum(i.items_in for i in counters) == ITEMS  # the keys spread over the instances, none lost
    for instance in run.instances:
        assert sum(second[1] for second in instance.series) == instance.items_in  # the seconds add up
        assert sum(second[2] for second in instance.series) == instance.items_out
        assert instance.busy_s >= 0 and instance.idle_s >= 0 and instance.blocked_s >= 0
    assert run.ended >= run.started


def test_simple_runs_every_instance_in_the_driving_process(recorded):
    d4py.run(counted())
    (run,) = recorded()
    assert {(i.pid, i.process) for i in run.instances} == {(os.getpid(), 0)}
    assert len(run.instances) == 6  # three PEs, and three counters


@pytest.mark.parametrize("backend", ["multi", "mpi"])
def test_the_layout_says_which_process_ran_each_instance(backend, recorded):
    d4py.run(counted(), backend=backend, processes=6)
    (run,) = recorded()
    pids = {i.pid for i in run.instances}
    assert os.getpid() not in pids  # workers ran them, not the driver
    assert run.pid == os.getpid()
    assert len({i.process for i in run.instances}) == len(pids) > 1
    fused = {i.process for i in run.instances if i.pe in {pe["id"] for pe in run.workflow["graph"]["pes"][:3]}}
    assert len(fused) == 1  # the fused chain shares one process


@pytest.mark.parametrize("backend", ["simple", "multi", "mpi"])
def test_a_failed_run_is_recorded_with_its_pe_instance_and_item(backend, recorded):
    graph = WorkflowGraph()
    source, middle, faulty = Numbers(40), Pass(), Fails(bad=13)
    graph.connect(source, "output", middle, "input")
    graph.connect(middle, "output", faulty, "input")
    with pytest.raises(PEFailure):
        d4py.run(graph, backend=backend, processes=3)
    (run,) = recorded()
    assert run.status == "failed"
    assert run.error["pe"] == faulty.id and run.error["instance"] == 0
    assert run.error["item"] == "{'input': 13}" and run.error["stage"] == "process"
    assert "cannot handle 13" in run.error["traceback"]
    assert run.counts == {}
    # What the instances did up to the failure is kept: the faulty one read the 13 items before the bad one.
    reads = {i.pe: i.items_in for i in run.instances}
    assert reads[faulty.id] >= 13 and reads[middle.id] >= 14


class Interrupted(Pass):
    def _process(self, data):
        if data == 5:
            raise KeyboardInterrupt  # as Ctrl-C would, in the middle of the stream
        return data


def test_an_interrupted_run_is_recorded_as_such(recorded):
    graph = WorkflowGraph()
    graph.connect(Numbers(10), "output", Interrupted(), "input")
    with pytest.raises(KeyboardInterrupt):
        d4py.run(graph)
    (run,) = recorded()
    assert run.status == "interrupted" and run.error == {"type": "KeyboardInterrupt", "message": "interrupted (Ctrl-C)"}


def test_options_are_recorded_with_the_budget(recorded):
    d4py.run(counted(), backend="multi", options=["batch_items=7"], processes=2)
    (run,) = recorded()
    assert run.options["batch_items"] == 7 and run.processes == 2


def test_the_graph_is_described_with_ports_instances_and_groupings(recorded):
    d4py.run(counted())
    (run,) = recorded()
    graph = run.workflow["graph"]
    assert [pe["instances"] for pe in graph["pes"]] == [1, 1, 1, 3]
    assert graph["pes"][3]["inputs"] == ["input"] and graph["pes"][0]["outputs"] == ["output"]
    assert [c["grouping"] for c in graph["connections"]] == ["shuffle", "shuffle", "group_by[0]"]
    assert run.inputs == {graph["pes"][0]["id"]: 1}


def test_the_graph_hash_is_the_same_under_another_budget(recorded):
    d4py.run(counted())
    d4py.run(counted(), backend="multi", processes=2)
    second, first = recorded()
    assert first.workflow["hash"] == second.workflow["hash"]
    assert first.workflow["graph"] != second.workflow["graph"]  # instance counts follow -n


def test_monitor_off_records_nothing(monkeypatch, recorded):
    monkeypatch.setenv("D4PY_MONITOR", "off")
    d4py.run(counted(), backend="multi", processes=3)
    assert recorded() == []


@pytest.mark.parametrize(("backend", "processes"), [("simple", None), ("multi", 6), ("mpi", 6)])
def test_the_communication_matrix_says_what_each_instance_sent_to_each_other(backend, processes, recorded):
    d4py.run(counted(), backend=backend, processes=processes)
    (run,) = recorded()
    source, middle, pair, counter = (pe["id"] for pe in run.workflow["graph"]["pes"])
    rows = {(i.pe, i.index): i for i in run.instances}
    assert [(cell["pe"], cell["items"]) for cell in rows[(source, 0)].sent] == [(middle, ITEMS)]
    spread = {cell["index"]: cell["items"] for cell in rows[(pair, 0)].sent if cell["pe"] == counter}
    assert spread == {i.index: i.items_in for i in run.instances if i.pe == counter}  # one cell per counter
    assert sum(spread.values()) == ITEMS
    assert rows[(counter, 0)].sent == []  # its output is the run's result, not another instance's input


@pytest.mark.parametrize(("backend", "crosses"), [("simple", False), ("multi", True)])
def test_bytes_count_the_payload_that_crossed_between_processes(backend, crosses, recorded):
    words = ["seismogram", "spectrum", "station"] * 50
    graph = WorkflowGraph()
    source, pair, counter = Words(words), Pair(), KeyCounter(grouping=[0], numprocesses=2)
    graph.connect(source, "output", pair, "input")
    graph.connect(pair, "output", counter, "input")  # group_by: another process on multi
    d4py.run(graph, backend=backend, processes=4)
    (run,) = recorded()
    payload = sum(len(word) for word in words) if crosses else 0  # within a process, nothing is copied
    (pairs,) = [i for i in run.instances if i.pe == pair.id]
    assert pairs.bytes_out == {"output": payload}
    assert sum(cell["bytes"] for cell in pairs.sent) == payload
    assert sum(i.bytes_in.get("input", 0) for i in run.instances if i.pe == counter.id) == payload


@pytest.mark.parametrize("backend", ["simple", "multi"])
def test_the_most_frequent_group_keys_show_the_skew(backend, recorded):
    words = ["noise"] * 60 + ["quake"] * 25 + [f"rare{n}" for n in range(15)]
    graph = WorkflowGraph()
    source, pair, counter = Words(words), Pair(), KeyCounter(grouping=[0], numprocesses=2)
    graph.connect(source, "output", pair, "input")
    graph.connect(pair, "output", counter, "input")
    d4py.run(graph, backend=backend, processes=4)
    (run,) = recorded()
    landed = {key: count for i in run.instances if i.pe == counter.id for key, count in i.keys.get("input", [])}
    assert landed["noise"] == 60 and landed["quake"] == 25
    for instance in run.instances:
        if instance.pe == counter.id:
            top = instance.keys["input"]
            assert len(top) <= 10 and [count for _, count in top] == sorted((c for _, c in top), reverse=True)


@pytest.mark.parametrize(("backend", "crosses"), [("simple", False), ("multi", True), ("mpi", True)])
def test_latency_is_sampled_for_items_that_crossed_between_processes(backend, crosses, recorded):
    graph = WorkflowGraph()
    source, pair, counter = Words(["a", "b", "c", "d"] * 25), Pair(), KeyCounter(grouping=[0], numprocesses=2)
    graph.connect(source, "output", pair, "input")
    graph.connect(pair, "output", counter, "input")
    d4py.run(graph, backend=backend, processes=4)
    (run,) = recorded()
    latencies = [i.latency for i in run.instances if i.pe == counter.id and i.items_in]
    if not crosses:
        assert latencies == [{}, {}]  # handed over at once, within the process
        return
    assert latencies and all(latency["samples"] >= 1 for latency in latencies)
    assert all(0 <= latency["p50_s"] <= latency["p95_s"] <= latency["max_s"] for latency in latencies)
    assert all(i.latency == {} for i in run.instances if i.pe != counter.id)  # fused with their writer


def test_at_a_failure_what_observers_in_this_process_were_given_is_recorded():
    from d4py.backends.simple import SimpleBackend
    from d4py.observe import Activity
    from d4py.runtime import InstanceInfo
    from d4py_monitor.observer import InstanceObserver
    from d4py_monitor.recorder import Recorder

    graph = WorkflowGraph()
    source, middle = Numbers(3), Pass()
    graph.connect(source, "output", middle, "input")
    recorder = Recorder(d4py.build_plan(graph), SimpleBackend())
    given, idle = InstanceObserver(InstanceInfo(source.id, 0, 1)), InstanceObserver(InstanceInfo(middle.id, 0, 1))
    given.observe(Activity(reads={"": 1}, writes={"output": 3}, busy=0.25))  # not yet reported: under a second
    recorder.observers = [given, idle]
    recorder.flush()
    run = recorder.finish(None, RuntimeError("boom"))
    (instance,) = run.instances  # the idle one was given nothing: left out, not shown with zeros
    assert (instance.pe, instance.items_out, instance.busy_s) == (source.id, 3, 0.25)
    assert run.status == "failed" and run.error["message"] == "boom"


@pytest.mark.parametrize(("backend", "options"), [("spark", []), ("storm", ["emulate=true"]), ("redis", [])])
def test_runs_on_spark_storm_and_redis_are_recorded_per_instance(backend, options, recorded):
    result = d4py.run(counted(), backend=backend, processes=4, options=options)
    (run,) = recorded()
    assert (run.backend, run.status) == (backend, "ok")
    source, middle, pair, counter = run.workflow["graph"]["pes"]
    assert per_pe(run, "items_in") == {source["id"]: 1, middle["id"]: ITEMS, pair["id"]: ITEMS, counter["id"]: ITEMS}
    assert per_pe(run, "items_out")[pair["id"]] == ITEMS
    assert run.counts == result.counts
    spread = [cell for i in run.instances if i.pe == pair["id"] for cell in i.sent if cell["pe"] == counter["id"]]
    assert sum(cell["items"] for cell in spread) == ITEMS  # the matrix, there too


def test_latency_beyond_the_sample_keeps_a_uniform_sample_and_the_largest():
    from d4py_monitor.recorder import Reservoir

    reservoir = Reservoir(size=8)
    reservoir.extend([float(n) for n in range(1000)])
    summary = reservoir.summary()
    assert (summary["samples"], summary["max_s"], len(reservoir.values)) == (1000, 999.0, 8)
    assert len(set(reservoir.values)) == 8 and max(reservoir.values) > 7  # later values replaced early ones
