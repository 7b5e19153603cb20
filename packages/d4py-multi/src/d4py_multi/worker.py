"""A worker process: the instances of its slots, hosted by core's ProcessHost, fed from its mailbox."""

from __future__ import annotations

from dataclasses import dataclass
from multiprocessing.connection import wait

from d4py.hosting import (
    END,
    FAILED,
    ITEMS,
    HostTransport,
    Outbox,
    ProcessHost,
    WorkerSettings,
    die_with_parent,
    portable_error,
    queued,
    queued_traced,
    start_worker,
)
from d4py.hosting.regions import Regions
from d4py.plan import Edge, Plan, Slot
from d4py.runtime import Send, TracedSend
from d4py_multi.backend import MultiOptions
from d4py_multi.mailbox import Mailbox, ReadAhead
from d4py_multi.pool import FINISHED, POOL_END, POOL_IDLE, Pool, counting
from d4py_multi.threads import limit_in_worker


@dataclass(frozen=True)
class WorkerSpec:
    """What one worker needs: its slots, the run's settings, and how to reach the others.

    A pool worker (``control`` set) hosts one copy of a pooled partition and
    takes its items from the pool's shared queue.
    """

    number: int
    slots: list[Slot]
    settings: WorkerSettings
    options: MultiOptions
    layout: list[list[Slot]]  # the pinned workers' slots, by worker number
    mailboxes: list[Mailbox]
    driver: Mailbox
    native_threads: int | None
    driver_pid: int
    pools: dict[int, Pool]  # pooled partition -> its queue
    regions: Regions | None  # the memory files large buffers cross in, when the workers are forked
    control: Mailbox | None = None


class _PipeTransport(HostTransport):
    """Core's host transport over mailboxes, plus dynamic mode's shared pool queues."""

    def __init__(self, spec: WorkerSpec, plan: Plan) -> None:
        outboxes = {number: Outbox.framing(box.send, spec.options) for number, box in enumerate(spec.mailboxes)}
        super().__init__(plan, outboxes.__getitem__, Outbox.framing(spec.driver.send, spec.options), spec.layout)
        self.pool_outboxes = {
            p: Outbox.framing(counting(pool.queue.send, pool.depth), spec.options, keep=False)
            for p, pool in spec.pools.items()
        }
        self.outboxes[:0] = self.pool_outboxes.values()
        self.pool_copy = spec.control is not None

    def deliver(self, edge: Edge, target: int) -> Send:
        pooled = self.pool_outboxes.get(self.plan.nodes[edge.target].partition)
        if pooled is None:
            return super().deliver(edge, target)
        return queued(pooled, edge.index, 0)  # any pool worker may take it: the target index does not matter

    def deliver_traced(self, edge: Edge, target: int) -> TracedSend:
        pooled = self.pool_outboxes.get(self.plan.nodes[edge.target].partition)
        if pooled is None:
            return super().deliver_traced(edge, target)
        return queued_traced(pooled, edge.index, 0)

    def end(self, edge: Edge, target: int, source: int) -> None:
        if (edge.target, target) in self.instances:
            super().end(edge, target, source)
        elif self.pool_copy:
            pass  # a pool copy's ends are the driver's to send, once the whole pool has finished
        elif (pooled := self.pool_outboxes.get(self.plan.nodes[edge.target].partition)) is not None:
            if target == 0:  # once per edge and source: the pool is one consumer
                pooled.put((END, edge.index, source, None))
        else:
            super().end(edge, target, source)


def run_worker(spec: WorkerSpec) -> None:
    """Entry point of a worker process."""
    die_with_parent(spec.driver_pid)
    if spec.regions is not None and spec.control is None:
        spec.regions.attach(spec.number)
    limit_in_worker(spec.native_threads)  # before the plan brings the workflow's imports
    host: ProcessHost | None = None
    try:
        worker = start_worker(spec.settings)
        transport = _PipeTransport(spec, worker.plan)
        host = worker.host(spec.slots, transport, spec.number, spec.options.progress_ms / 1000)
        host.start()
        if spec.control is None:
            _run(spec, host)
            transport.flush()
            spec.driver.send([host.done()])
        else:
            _run_pooled(spec, host, transport)
            transport.flush()
            if spec.regions is not None:  # a pool worker may retire mid-run: give back the pages it mapped
                spec.regions.settle()
            spec.driver.send([(FINISHED, spec.number), host.done()])
    except BaseException as error:  # every failure, even SystemExit, must reach the driver
        failed = (FAILED, spec.number, portable_error(error, "multi"))
        try:  # the failure goes with its instances' last reports, or alone if those cannot be sent
            spec.driver.send([*(host.last_messages() if host is not None else []), failed])
        except Exception:
            spec.driver.send([failed])


def _run(spec: WorkerSpec, host: ProcessHost) -> None:
    host.run_roots()
    inbox = ReadAhead(spec.mailboxes[spec.number], spec.options.read_ahead_bytes)
    while not host.finished:
        host.transport.flush()
        host.dispatch(inbox.receive(), inbox.mailbox.queued)


def _run_pooled(spec: WorkerSpec, host: ProcessHost, transport: _PipeTransport) -> None:
    """Take batches from the pool's queue until the driver says the pool is done."""
    assert spec.control is not None
    ((partition, index),) = spec.slots
    pool = spec.pools[partition]
    while True:
        transport.flush()
        ready = wait([pool.queue.connection, spec.control.connection])
        if spec.control.connection in ready:
            break  # FINISH: every item of the pool has been processed
        batch = pool.queue.take()
        if batch is None:
            continue  # another pool worker took it
        if host.observed:
            host.waited()
        items = 0
        for kind, edge_index, source, payload in batch:
            if kind in ITEMS:
                host.hand(kind, edge_index, index, payload)
                items += 1
            else:  # an upstream instance ended: the driver counts these for the whole pool
                transport.to_driver.put((POOL_END, partition, edge_index, source))
        if items:
            transport.flush()  # what these items produced goes out before they count as done
            with pool.depth.get_lock():
                pool.depth.value -= items
                idle = pool.depth.value == 0
            if idle:
                transport.to_driver.put((POOL_IDLE, partition))
        host.tick()
    host.finish()
