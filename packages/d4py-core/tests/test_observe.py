"""Observers: activity per instance in batches, own time net of nested calls, and the fast path kept without them."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from typing import ClassVar

import pytest

import d4py.observe
from d4py import WorkflowGraph, build_plan, run
from d4py.observe import Activity, Observer, Sampler
from d4py.runtime import Instance
from d4py.testing.observing import InstanceWatch
from d4py.testing.pes import Add, Numbers, Summary


class _Ticks:
    """A perf_counter that advances one second per reading."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


class _Looking:
    """A PE-like object whose own method lets the test look from inside it."""

    def __init__(self, inner: _Looking | None = None) -> None:
        self.inner = inner

    def _process(self, look: Callable[[], None], send: Callable[[object], None] | None = None) -> None:
        if self.inner is not None:
            self.inner._process(look)  # a fused downstream PE, called from this one
        look()
        if send is not None:
            send(look)


def test_a_look_charges_the_innermost_pe_running_and_a_send_as_blocked(monkeypatch):
    sampler = Sampler(seconds=3600)  # its own thread never looks: the test does
    inner, outer = _Looking(), _Looking()
    outer.inner = inner
    inner_activity, outer_activity = Activity(), Activity()
    monkeypatch.setattr(d4py.observe.time, "perf_counter", _Ticks())  # each look covers one second
    sampler.watch(inner, inner_activity)
    sampler.watch(outer, outer_activity)
    send = sampler.sending(lambda look: look())
    try:
        outer._process(sampler.look, send)  # looks inside inner, then in outer, then in outer's send
        sampler.look()  # outside any watched PE: charged to nobody
    finally:
        sampler.stop()
    sampler.drain(inner_activity)
    sampler.drain(outer_activity)
    assert (inner_activity.busy, inner_activity.blocked) == (1.0, 0.0)
    assert (outer_activity.busy, outer_activity.blocked) == (1.0, 1.0)


@pytest.fixture
def resting(monkeypatch):
    """A sampler watching one PE-like object, its own thread never looking, on a clock the test moves."""
    sampler, activity, pe, clock = Sampler(seconds=3600), Activity(), _Looking(), _Ticks()
    monkeypatch.setattr(d4py.observe.time, "perf_counter", clock)
    sampler.watch(pe, activity)
    return sampler, activity, pe, clock


def test_the_time_a_host_rests_between_batches_is_charged_to_no_one(resting):
    sampler, activity, pe, clock = resting
    try:
        sampler.rest()  # the host waits for its next batch: its thread need not look
        clock.now += 100.0  # a long wait
        sampler.wake()  # the batch: time counts from here
        pe._process(sampler.look)
    finally:
        sampler.stop()
    sampler.drain(activity)
    assert activity.busy == 2.0  # a tick of the clock before the rest and one after it, not the 100 s of rest


def test_a_look_charges_every_batch_since_the_last_look_not_only_the_one_under_way(resting):
    sampler, activity, pe, clock = resting
    try:
        for _ in range(10):  # ten short batches of one clock tick each, with a long wait after each, and no look
            sampler.wake()
            clock.now += 1.0
            sampler.rest()
            clock.now += 50.0
        sampler.wake()
        pe._process(sampler.look)  # the timer's look, in the eleventh batch
    finally:
        sampler.stop()
    sampler.drain(activity)
    # Each batch two ticks (its work and the reading as it rests), then the look's own: the earlier batches are
    # charged with the one under way, the 500 s of waits to no one.
    assert activity.busy == 10 * 2.0 + 1.0


def test_take_hands_over_and_empties_in_place():
    activity = Activity(reads={"input": 2}, busy=0.5)
    reads = activity.reads
    taken = activity.take()
    assert taken.reads == {"input": 2} and taken.busy == 0.5
    assert activity.reads is reads and not activity and not reads


def test_a_key_window_counts_a_routes_first_items_exactly_then_closes_until_reopened():
    window = d4py.observe.KeyWindow()
    items = d4py.observe.KEY_WINDOW_ITEMS
    for n in range(items + 1000):
        if window.add is not None:  # as a route does: keep keys only while open, count the window down
            window.add("quake" if n % 4 == 0 else "noise")
            window.left -= 1
            if window.left <= 0:
                window.add = None
    assert window.take() == {"quake": items // 4, "noise": items - items // 4} and window.add is None
    assert window.take() == {}  # taken once
    window.reopen()
    assert window.add is not None
    window.add("tremor")
    assert window.take() == {"tremor": 1}
    assert d4py.observe.CLOSED.add is None  # what unobserved routes read


def test_a_key_window_hands_on_only_its_most_frequent_keys():
    window = d4py.observe.KeyWindow()
    top = d4py.observe.KEY_WINDOW_TOP
    for rank in range(top + 50):  # key k{rank} appears (top + 50 - rank) times: k0 most often
        for _ in range(top + 50 - rank):
            window.add(f"k{rank}")
    taken = window.take()
    assert taken == {f"k{rank}": top + 50 - rank for rank in range(top)}


def _graph():
    graph = WorkflowGraph()
    source, add, total = Numbers(25), Add(1), Summary(grouping="global")
    graph.connect(source, "output", add, "input")
    graph.connect(add, "output", total, "input")
    return graph, source, add, total


def test_observers_count_reads_per_port_and_writes_with_the_read_they_followed():
    graph, source, add, total = _graph()
    watch = InstanceWatch()
    result = run(graph, plugins=[watch])
    assert watch.totals("reads") == result.counts == {source.id: 1, add.id: 25, total.id: 25}
    by_pe = {report.pe_id: report for report in watch.reports}
    assert by_pe[source.id].reads == {"": 1}  # a root call is a read on port ''
    assert by_pe[add.id].writes == {"output": 25} and by_pe[total.id].writes == {"output": 1}
    assert by_pe[total.id].batches >= 1


def test_an_observed_instance_keeps_the_direct_path():
    graph, _, add, _ = _graph()
    plan = build_plan(graph)
    assert Instance(plan, add.id, 0, add, transport=None)._direct  # type: ignore[arg-type]
    watched = Instance(plan, add.id, 0, add, transport=None, observers=[Observer()])  # type: ignore[arg-type]
    assert watched._direct


def test_an_observed_pe_that_fails_shows_its_own_code_first():
    from d4py import PEFailure
    from d4py.testing.pes import Fails

    for plugins in ([], [InstanceWatch()]):
        graph = WorkflowGraph()
        graph.connect(Numbers(5), "output", Fails(bad=3), "input")
        try:
            run(graph, plugins=plugins)
        except PEFailure as failure:
            frames = failure.traceback_text.splitlines()
        else:
            raise AssertionError("the run did not fail")
        assert frames[0] == "Traceback (most recent call last):"
        assert "testing/pes.py" in frames[1] and "_process" in frames[1]  # no frame of d4py's own before it


class _FailsAtTheEnd(Summary):
    def _postprocess(self) -> None:
        raise RuntimeError("cannot summarise")


def test_a_run_that_fails_in_postprocess_still_gives_every_observer_its_last_batch():
    from d4py import PEFailure

    graph = WorkflowGraph()
    source, total = Numbers(5), _FailsAtTheEnd(grouping="global")
    graph.connect(source, "output", total, "input")
    watch = InstanceWatch()
    try:
        run(graph, plugins=[watch])
    except PEFailure as failure:
        assert failure.stage == "postprocess"
    else:
        raise AssertionError("the run did not fail")
    reads = {report.pe_id: dict(report.reads) for report in watch.reports}
    assert reads == {source.id: {"": 1}, total.id: {"input": 5}}  # the writer's report too, whose end it was


def _sigprof() -> None:
    signal.raise_signal(signal.SIGPROF)


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="no SIGPROF timer on this platform")
def test_on_the_main_thread_the_timer_signal_looks_and_sigprof_is_given_back(monkeypatch):
    sampler = Sampler(seconds=3600)  # neither the timer nor the thread fires by itself: the test raises SIGPROF
    inner, outer = _Looking(), _Looking()
    outer.inner = inner
    inner_activity, outer_activity = Activity(), Activity()
    monkeypatch.setattr(d4py.observe.time, "perf_counter", _Ticks())
    sampler.watch(inner, inner_activity)
    sampler.watch(outer, outer_activity)
    assert signal.getsignal(signal.SIGPROF) == sampler._tick and signal.getitimer(signal.ITIMER_PROF)[1] == 3600
    try:
        outer._process(_sigprof, sampler.sending(lambda look: look()))
        with sampler._lock:  # held below the handler (a drain): that look is skipped, not waited for
            _sigprof()
        _sigprof()  # outside any PE: the skipped look's second and this one's are nobody's
    finally:
        sampler.forget(inner, inner_activity)
        sampler.forget(outer, outer_activity)
    assert (inner_activity.busy, inner_activity.blocked) == (1.0, 0.0)
    assert (outer_activity.busy, outer_activity.blocked) == (1.0, 1.0)
    assert signal.getsignal(signal.SIGPROF) == signal.SIG_DFL and signal.getitimer(signal.ITIMER_PROF) == (0.0, 0.0)


class _SeesSigprof(Add):
    """Adds, noting SIGPROF's handler as each item passes."""

    handlers: ClassVar[list[object]] = []

    def _process(self, data: int) -> int:
        self.handlers.append(signal.getsignal(signal.SIGPROF))
        return super()._process(data)


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="no SIGPROF timer on this platform")
def test_a_sigprof_someone_else_set_is_left_alone_while_observed_instances_run():
    def profiler(signum: int, frame: object) -> None:
        pass

    graph, sees = WorkflowGraph(), _SeesSigprof(1)
    graph.connect(Numbers(5), "output", sees, "input")
    previous = signal.signal(signal.SIGPROF, profiler)
    try:
        watch = InstanceWatch()
        run(graph, plugins=[watch])
        assert signal.getsignal(signal.SIGPROF) is profiler
    finally:
        signal.signal(signal.SIGPROF, previous)
    assert watch.totals("reads")[sees.id] == 5 and _SeesSigprof.handlers == [profiler] * 5


def test_instances_on_another_thread_leave_sigprof_alone():
    sampler, activity, pe = Sampler(seconds=3600), Activity(), _Looking()
    watching = threading.Thread(target=sampler.watch, args=(pe, activity))
    watching.start()
    watching.join()
    try:
        assert not sampler._ticking and signal.getsignal(signal.SIGPROF) == signal.SIG_DFL
    finally:
        sampler.stop()


def test_a_look_while_the_host_rests_leaves_the_work_before_it_to_the_next_look(resting):
    sampler, activity, pe, clock = resting
    try:
        clock.now += 5.0  # a batch's work
        sampler.rest()
        sampler.look()  # the timer fires while the host waits (another thread used the CPU): no PE, no charge
        clock.now += 50.0
        sampler.wake()
        pe._process(sampler.look)
    finally:
        sampler.stop()
    sampler.drain(activity)
    assert activity.busy == 5.0 + 2.0  # the batch before the rest, and the ticks of the reading as it rested and now
