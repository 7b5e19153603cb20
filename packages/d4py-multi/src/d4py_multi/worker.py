"""A worker process: the instances of one partition at one index, on the shared runtime."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import wait
from multiprocessing.sharedctypes import Synchronized
from typing import Any

import cloudpickle

from d4py import _compat
from d4py._exceptions import D4pyError, RunFailed
from d4py.plan import Edge, Plan
from d4py.plugins import make_plugin_manager
from d4py.runtime import Instance, InstanceInfo
from d4py_multi.mailbox import Mailbox
from d4py_multi.outbox import DONE, END, FAILED, FINISHED, ITEM, OUTPUT, POOL_END, POOL_IDLE, Outbox, approximate_size

Send = Callable[[Any], None]


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
    log_level: int | None
    driver_pid: int
    pools: dict[int, Pool]  # pooled partition -> its queue
    control: Mailbox | None = None


class _PipeTransport:
    """Delivers locally by direct call, and to other workers through their outboxes."""

    def __init__(self, spec: WorkerSpec, plan: Plan, instances: dict[tuple[str, int], Instance]) -> None:
        self.spec, self.plan, self.instances = spec, plan, instances
        limits = (spec.batch_items, spec.batch_bytes, spec.flush_seconds)
        self.outboxes = {number: Outbox(box, *limits) for number, box in enumerate(spec.mailboxes)}
        self.pool_outboxes = {p: Outbox(pool.queue, *limits, depth=pool.depth) for p, pool in spec.pools.items()}
        self.to_driver = Outbox(spec.driver, *limits)

    def _worker(self, pe_id: str, index: int) -> int:
        return self.spec.worker_of[(self.plan.nodes[pe_id].partition, index)]

    def deliver(self, edge: Edge, target: int) -> Send:
        local = self.instances.get((edge.target, target))
        if local is not None:
            return local.receiver(edge.input)
        edge_index = edge.index
        pooled = self.pool_outboxes.get(self.plan.nodes[edge.target].partition)
        if pooled is not None:  # any pool worker may take it: the target index does not matter
            put_pooled = pooled.put
            return lambda item: put_pooled((ITEM, edge_index, 0, item), approximate_size(item))
        put = self.outboxes[self._worker(edge.target, target)].put
        return lambda item: put((ITEM, edge_index, target, item), approximate_size(item))

    def end(self, edge: Edge, target: int, source: int) -> None:
        local = self.instances.get((edge.target, target))
        if local is not None:
            local.end_of_input(edge.index, source)
        elif self.spec.control is not None:
            pass  # a pool copy's ends are the driver's to send, once the whole pool has finished
        elif (pooled := self.pool_outboxes.get(self.plan.nodes[edge.target].partition)) is not None:
            if target == 0:  # once per edge and source: the pool is one consumer
                pooled.put((END, edge.index, source, None))
        else:
            self.outboxes[self._worker(edge.target, target)].put((END, edge.index, target, source))

    def collect(self, pe_id: str, port: str) -> Send:
        put = self.to_driver.put
        return lambda item: put((OUTPUT, pe_id, port, item), approximate_size(item))

    def flush(self) -> None:
        for outbox in [*self.outboxes.values(), *self.pool_outboxes.values()]:
            outbox.flush()
        self.to_driver.flush()


def run_worker(spec: WorkerSpec) -> None:
    """Entry point of a worker process."""
    # Ctrl-C goes to the whole process group; the driver decides, and stops us.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent(spec.driver_pid)
    _keep_freed_memory()
    _compat.install()  # the plan may hold PEs from dispel4py 1.x workflows
    if spec.log_level is not None:
        _log_to_stderr(spec.log_level)
    try:
        plan: Plan = cloudpickle.loads(spec.plan_bytes)
        if spec.control is None:
            transport, counts = _run(spec, plan)
            transport.flush()
            spec.driver.send([(DONE, spec.number, counts)])
        else:
            transport, counts = _run_pooled(spec, plan)
            transport.flush()
            spec.driver.send([(FINISHED, spec.number), (DONE, spec.number, counts)])
    except BaseException as error:  # every failure, even SystemExit, must reach the driver
        spec.driver.send([(FAILED, spec.number, _portable(error))])


def _start(spec: WorkerSpec, plan: Plan) -> tuple[_PipeTransport, dict[tuple[str, int], Instance], list[Instance]]:
    """Build, connect and start this worker's instances of its partition."""
    hook = make_plugin_manager().hook
    instances: dict[tuple[str, int], Instance] = {}
    transport = _PipeTransport(spec, plan, instances)
    order = []
    for pe_id in plan.partitions[spec.partition]:
        node = plan.nodes[pe_id]
        # The plan was unpickled in this process: node.pe is already this instance's own copy.
        info = InstanceInfo(pe_id, spec.index, node.instances)
        wrappers = [w for w in hook.d4py_wrap_process(pe=node.pe, info=info) if w is not None]
        instance = Instance(plan, pe_id, spec.index, node.pe, transport, wrappers)
        instances[(pe_id, spec.index)] = instance
        order.append(instance)
    for instance in reversed(order):
        instance.connect()
    for instance in reversed(order):
        instance.start()
    return transport, instances, order


def _run(spec: WorkerSpec, plan: Plan) -> tuple[_PipeTransport, dict[str, int]]:
    transport, instances, order = _start(spec, plan)
    for instance in order:
        if instance.pe_id in plan.roots:
            inputs = plan.inputs.get(instance.pe_id, [])
            for turn in range(spec.index, len(inputs), plan.nodes[instance.pe_id].instances):
                instance.feed(inputs[turn])
            instance.finish()
    inbox = spec.mailboxes[spec.number]
    receivers: dict[tuple[int, int], Send] = {}
    while not all(instance.finished for instance in order):
        transport.flush()
        for kind, edge_index, target, payload in inbox.receive():
            if kind == ITEM:
                receive = receivers.get((edge_index, target))
                if receive is None:
                    edge = plan.edges[edge_index]
                    receive = receivers[(edge_index, target)] = instances[(edge.target, target)].receiver(edge.input)
                receive(payload)
            else:
                instances[(plan.edges[edge_index].target, target)].end_of_input(edge_index, payload)
    return transport, {instance.pe_id: instance.count for instance in order}


def _run_pooled(spec: WorkerSpec, plan: Plan) -> tuple[_PipeTransport, dict[str, int]]:
    """Take batches from the pool's queue until the driver says the pool is done."""
    assert spec.control is not None
    transport, instances, order = _start(spec, plan)
    pool = spec.pools[spec.partition]
    receivers: dict[int, Send] = {}
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
                receive = receivers.get(edge_index)
                if receive is None:
                    edge = plan.edges[edge_index]
                    receive = receivers[edge_index] = instances[(edge.target, spec.index)].receiver(edge.input)
                receive(payload)
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
    for instance in order:
        if not instance.finished:
            instance.finish()
    return transport, {instance.pe_id: instance.count for instance in order}


def _portable(error: BaseException) -> BaseException:
    """An exception the driver can unpickle, keeping the message and traceback."""
    if isinstance(error, D4pyError):
        try:
            cloudpickle.loads(cloudpickle.dumps(error))
            return error
        except Exception:  # not picklable after all: fall through to a plain copy
            pass
    text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    failure = RunFailed(f"a multi worker failed: {type(error).__name__}: {error}")
    failure.traceback_text = text  # type: ignore[attr-defined]
    return failure


def _keep_freed_memory() -> None:
    """Stop glibc returning freed memory to the kernel after every large array.

    With its default, adaptive thresholds a worker that allocates and frees
    half-megabyte arrays (FFTs, spectra) keeps unmapping and re-faulting pages:
    measured here, 5 s of system time in a 3 s job. Fixed thresholds keep such
    blocks for reuse. This process is ours, so the setting affects nothing else.
    """
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL("libc.so.6")
            libc.mallopt(-3, 64 << 20)  # M_MMAP_THRESHOLD: blocks below 64 MiB come from the heap
            libc.mallopt(-1, 256 << 20)  # M_TRIM_THRESHOLD: keep up to 256 MiB free before trimming


def _die_with_parent(driver_pid: int) -> None:
    """On Linux, have the kernel kill this worker if the driver dies, so none is orphaned."""
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        if os.getppid() != driver_pid:  # the driver died before prctl took effect
            os._exit(1)


def _log_to_stderr(level: int) -> None:
    logger = logging.getLogger("d4py.pe")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
    logger.setLevel(level)
