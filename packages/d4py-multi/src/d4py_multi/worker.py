"""A worker process: the instances of one partition at one index, hosted by core's PartitionHost."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from dataclasses import dataclass
from multiprocessing.connection import wait
from multiprocessing.sharedctypes import Synchronized

import cloudpickle

from d4py import _compat
from d4py.batching import DONE, END, FAILED, ITEM, Outbox, approximate_size
from d4py.plan import Edge, Plan
from d4py.runtime import Send
from d4py.worker import HostTransport, PartitionHost, keep_freed_memory, portable_error, show_pe_logs
from d4py_multi.mailbox import Mailbox, ReadAhead
from d4py_multi.outbox import FINISHED, POOL_END, POOL_IDLE, counting
from d4py_multi.threads import limit_in_worker


@dataclass(frozen=True)
class Pool:
    """Dynamic mode: the shared queue of a pooled partition and its count of pending items."""

    queue: Mailbox
    depth: Synchronized[int]


@dataclass(frozen=True)
class WorkerSpec:
    """What one worker needs: which partition instance it hosts and how to reach the others.

    A pool worker (``control`` set) hosts one copy of a pooled partition and
    takes its items from the pool's shared queue.
    """

    number: int
    partition: int
    index: int
    plan_bytes: bytes
    worker_of: dict[tuple[int, int], int]  # (partition, index) -> worker number, pinned partitions
    mailboxes: list[Mailbox]
    driver: Mailbox
    batch_items: int
    batch_bytes: int
    flush_seconds: float
    read_ahead_bytes: int
    native_threads: int | None
    progress_seconds: float
    log_level: int | None
    driver_pid: int
    pools: dict[int, Pool]  # pooled partition -> its queue
    control: Mailbox | None = None


class _PipeTransport(HostTransport):
    """Core's host transport over mailboxes, plus dynamic mode's shared pool queues."""

    def __init__(self, spec: WorkerSpec, plan: Plan) -> None:
        limits = (spec.batch_items, spec.batch_bytes, spec.flush_seconds)
        outboxes = {number: Outbox(box.send, *limits) for number, box in enumerate(spec.mailboxes)}

        def outbox_for(pe_id: str, index: int) -> Outbox:
            return outboxes[spec.worker_of[(plan.nodes[pe_id].partition, index)]]

        super().__init__(plan, outbox_for, Outbox(spec.driver.send, *limits))
        self.pool_outboxes = {
            p: Outbox(counting(pool.queue.send, pool.depth), *limits) for p, pool in spec.pools.items()
        }
        self.outboxes[:0] = self.pool_outboxes.values()
        self.pool_copy = spec.control is not None

    def deliver(self, edge: Edge, target: int) -> Send:
        pooled = self.pool_outboxes.get(self.plan.nodes[edge.target].partition)
        if pooled is None:
            return super().deliver(edge, target)
        put, edge_index = pooled.put, edge.index  # any pool worker may take it: the target index does not matter
        return lambda item: put((ITEM, edge_index, 0, item), approximate_size(item))

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
    # Ctrl-C goes to the whole process group; the driver decides, and stops us.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent(spec.driver_pid)
    keep_freed_memory()
    limit_in_worker(spec.native_threads)  # before the plan brings the workflow's imports
    _compat.install()  # the plan may hold PEs from dispel4py 1.x workflows
    if spec.log_level is not None:
        show_pe_logs(spec.log_level)
    try:
        # Unpickled here, so the plan's PE objects are this worker's own instances.
        plan: Plan = cloudpickle.loads(spec.plan_bytes)
        transport = _PipeTransport(spec, plan)
        host = PartitionHost(plan, spec.partition, spec.index, transport, progress_seconds=spec.progress_seconds)
        host.start()
        if spec.control is None:
            _run(spec, host)
            transport.flush()
            spec.driver.send([(DONE, spec.number, host.counts())])
        else:
            _run_pooled(spec, host, transport)
            transport.flush()
            spec.driver.send([(FINISHED, spec.number), (DONE, spec.number, host.counts())])
    except BaseException as error:  # every failure, even SystemExit, must reach the driver
        spec.driver.send([(FAILED, spec.number, portable_error(error, "multi"))])


def _run(spec: WorkerSpec, host: PartitionHost) -> None:
    host.run_roots()
    inbox = ReadAhead(spec.mailboxes[spec.number], spec.read_ahead_bytes)
    while not host.finished:
        host.transport.flush()
        host.dispatch(inbox.receive())


def _run_pooled(spec: WorkerSpec, host: PartitionHost, transport: _PipeTransport) -> None:
    """Take batches from the pool's queue until the driver says the pool is done."""
    assert spec.control is not None
    pool = spec.pools[spec.partition]
    while True:
        transport.flush()
        ready = wait([pool.queue.connection, spec.control.connection])
        if spec.control.connection in ready:
            break  # FINISH: every item of the pool has been processed
        batch = pool.queue.take()
        if batch is None:
            continue  # another pool worker took it
        items = 0
        for kind, edge_index, source, payload in batch:
            if kind == ITEM:
                host.receiver(edge_index, spec.index)(payload)
                items += 1
            else:  # an upstream instance ended: the driver counts these for the whole pool
                transport.to_driver.put((POOL_END, spec.partition, edge_index, source))
        if items:
            transport.flush()  # what these items produced goes out before they count as done
            with pool.depth.get_lock():
                pool.depth.value -= items
                idle = pool.depth.value == 0
            if idle:
                transport.to_driver.put((POOL_IDLE, spec.partition))
        host.report_progress()
    host.finish()


def _die_with_parent(driver_pid: int) -> None:
    """On Linux, have the kernel kill this worker if the driver dies, so none is orphaned."""
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        if os.getppid() != driver_pid:  # the driver died before prctl took effect
            os._exit(1)
