"""Dynamic mode's coordinator: pools grow and shrink with their queues and end by end-of-stream only."""

from __future__ import annotations

import multiprocessing

from d4py import WorkflowGraph
from d4py.hosting import END
from d4py.plan import build_plan
from d4py.testing.pes import Numbers, Pass
from d4py_multi.mailbox import Mailbox
from d4py_multi.pool import FINISH, IDLE_SECONDS, Pool, PoolCoordinator


class _Harness:
    """A coordinator over a real plan and real mailboxes, with worker starts recorded instead of run."""

    def __init__(self, max_workers: int = 3, grow_at: int = 10) -> None:
        self.now = 0.0
        graph = WorkflowGraph()
        self.source, self.pooled, self.after = Numbers(3), Pass(), Pass()
        graph.connect(self.source, "output", self.pooled, "input")
        graph.connect(self.pooled, "output", self.after, "input")
        graph.partitions = [[self.source], [self.pooled], [self.after]]
        self.plan = build_plan(graph)
        context = multiprocessing.get_context("fork")
        self.pool = Pool(Mailbox(context, shared=True), context.Value("q", 0))
        self.mailboxes = [Mailbox(context), Mailbox(context)]  # the source's and the sink's workers
        self.controls: list[Mailbox] = []
        worker_of = {(0, 0): 0, (2, 0): 1}
        limits = {1: max_workers}
        self.coordinator = PoolCoordinator(
            self.plan, {1: self.pool}, self.mailboxes, worker_of, self._start, limits, grow_at, lambda: self.now
        )

    def _start(self, partition: int) -> tuple[int, Mailbox]:
        control = Mailbox(multiprocessing.get_context("fork"))
        self.controls.append(control)
        return 10 + len(self.controls), control


def test_a_pool_grows_while_its_queue_holds_more_than_a_batch_up_to_its_size():
    harness = _Harness(max_workers=3, grow_at=10)
    harness.coordinator.start()
    assert len(harness.controls) == 1
    harness.coordinator.resize()
    assert len(harness.controls) == 1  # empty queue: no growth
    harness.pool.depth.value = 11
    for _ in range(5):
        harness.coordinator.resize()
    assert len(harness.controls) == 3  # capped at the pool size
    assert not any(control.ready() for control in harness.controls)


def test_a_pool_gives_up_its_newest_worker_once_its_queue_stays_empty_but_never_its_last():
    harness = _Harness(max_workers=3, grow_at=10)
    harness.coordinator.start()
    harness.pool.depth.value = 11
    harness.coordinator.resize()
    harness.coordinator.resize()
    first, second, third = harness.controls
    harness.pool.depth.value = 0
    for now, retired in [(1.0, None), (1.0 + IDLE_SECONDS / 2, None), (1.0 + IDLE_SECONDS * 1.5, third)]:
        harness.now = now
        harness.coordinator.resize()
        assert [control.ready() for control in harness.controls] == [c is retired for c in harness.controls]
    assert third.receive() == [(FINISH,)]
    harness.pool.depth.value = 1  # work again: the pool keeps its two workers and waits afresh
    harness.now = 2.0
    harness.coordinator.resize()
    harness.pool.depth.value = 0
    for now in [2.5, 2.5 + IDLE_SECONDS / 2]:
        harness.now = now
        harness.coordinator.resize()
    assert not second.ready()
    for now in [2.5 + IDLE_SECONDS * 1.5, 2.5 + IDLE_SECONDS * 3]:
        harness.now = now
        harness.coordinator.resize()
    assert second.receive() == [(FINISH,)]
    assert not first.ready() and harness.coordinator.workers[1].keys() == {11}
    assert harness.coordinator.resizing  # it may still grow


def test_a_pool_ends_downstream_only_once_its_retired_workers_have_flushed_too():
    harness = _Harness(max_workers=2)
    harness.coordinator.start()
    harness.pool.depth.value = 11
    harness.coordinator.resize()
    harness.pool.depth.value = 0
    harness.coordinator.resize()
    harness.now = IDLE_SECONDS * 1.5
    harness.coordinator.resize()
    assert harness.controls[1].receive() == [(FINISH,)]  # worker 12 retires; it has not flushed yet
    edge_in = harness.plan.incoming[harness.pooled.id][0]
    harness.coordinator.upstream_ended(1, edge_in.index, 0)
    assert harness.controls[0].receive() == [(FINISH,)]
    assert not harness.controls[1].ready()  # told once is enough
    harness.coordinator.worker_finished(11)
    assert not harness.mailboxes[1].ready()  # the retired worker's output may still be on its way
    harness.coordinator.worker_finished(12)
    edge_out = harness.plan.incoming[harness.after.id][0]
    assert harness.mailboxes[1].receive() == [(END, edge_out.index, 0, 0)]


def test_a_pool_finishes_only_when_every_upstream_ended_and_nothing_is_pending():
    harness = _Harness()
    harness.coordinator.start()
    edge_in = harness.plan.incoming[harness.pooled.id][0]
    harness.pool.depth.value = 2
    harness.coordinator.upstream_ended(1, edge_in.index, 0)
    assert not harness.controls[0].ready()  # items still pending: no FINISH yet
    harness.pool.depth.value = 0
    harness.coordinator.check(1)
    assert harness.controls[0].receive() == [(FINISH,)]
    harness.coordinator.worker_finished(11)
    edge_out = harness.plan.incoming[harness.after.id][0]
    assert harness.mailboxes[1].receive() == [(END, edge_out.index, 0, 0)]  # the sink hears the pool's end
