"""What a worker process of a multi-process backend runs, whatever carries its batches.

A :class:`PartitionHost` holds the instances of one partition at one index.
They call each other directly; everything bound for another process goes
through :class:`HostTransport`, which queues it in the :class:`Outbox` of
the process hosting the target. Arriving batches go to :meth:`PartitionHost.dispatch`.
Backends (``multi`` over pipes, ``mpi`` over MPI) differ only in how a batch
crosses to another process and how workers are started and watched.

The plan a host receives must be this process's own copy (unpickled here),
because its PE objects become the running instances.
"""

from __future__ import annotations

import contextlib
import logging
import pickle
import sys
import time
import traceback
from collections.abc import Callable

import networkx as nx
import pluggy

from d4py._exceptions import D4pyError, RunFailed, UsageError
from d4py.batching import END, ITEM, OUTPUT, PROGRESS, Batch, Outbox, approximate_size
from d4py.plan import Edge, Plan
from d4py.plugins import make_plugin_manager
from d4py.runtime import Instance, InstanceInfo, Send

__all__ = [
    "HostTransport",
    "LiveCounts",
    "PartitionHost",
    "keep_freed_memory",
    "pe_log_level",
    "portable_error",
    "refuse_partition_cycles",
    "show_pe_logs",
    "slots",
]


def slots(plan: Plan) -> list[tuple[int, int]]:
    """Every (partition, index) that needs a worker of its own, in a fixed order."""
    return [(p, k) for p, members in enumerate(plan.partitions) for k in range(plan.nodes[members[0]].instances)]


def refuse_partition_cycles(plan: Plan, backend: str) -> None:
    """Raise a UsageError if partitions feed each other, which could deadlock bounded transport.

    Fused partitions never form a cycle; explicit ``graph.partitions`` can.
    """
    between = nx.DiGraph()
    for edge in plan.edges:
        source, target = plan.nodes[edge.source].partition, plan.nodes[edge.target].partition
        if source != target:
            between.add_edge(source, target)
    try:
        cycle = nx.find_cycle(between)
    except nx.NetworkXNoCycle:
        return
    groups = " and ".join("[" + ", ".join(plan.partitions[p]) + "]" for p, _ in cycle)
    raise UsageError(
        f"backend {backend!r} cannot run partitions that feed each other ({groups}); "
        "change graph.partitions so that items flow one way between them"
    )


class HostTransport:
    """Delivers to this process's instances by direct call, and to the others through outboxes.

    ``outbox_for(pe_id, index)`` returns the outbox of the process hosting that
    instance; ``to_driver`` carries collected outputs to the process that
    called ``run``.
    """

    def __init__(self, plan: Plan, outbox_for: Callable[[str, int], Outbox], to_driver: Outbox) -> None:
        self.plan, self.outbox_for, self.to_driver = plan, outbox_for, to_driver
        self.instances: dict[tuple[str, int], Instance] = {}
        self.outboxes: list[Outbox] = [to_driver]

    def deliver(self, edge: Edge, target: int) -> Send:
        local = self.instances.get((edge.target, target))
        if local is not None:
            return local.receiver(edge.input)
        put, edge_index = self._outbox(edge.target, target).put, edge.index
        return lambda item: put((ITEM, edge_index, target, item), approximate_size(item))

    def end(self, edge: Edge, target: int, source: int) -> None:
        local = self.instances.get((edge.target, target))
        if local is not None:
            local.end_of_input(edge.index, source)
        else:
            self._outbox(edge.target, target).put((END, edge.index, target, source))

    def collect(self, pe_id: str, port: str) -> Send:
        put = self.to_driver.put
        return lambda item: put((OUTPUT, pe_id, port, item), approximate_size(item))

    def flush(self) -> None:
        """Send every queued batch; the driver's last, after what it may depend on."""
        for outbox in reversed(self.outboxes):
            outbox.flush()

    def _outbox(self, pe_id: str, index: int) -> Outbox:
        outbox = self.outbox_for(pe_id, index)
        if outbox not in self.outboxes:
            self.outboxes.insert(0, outbox)
        return outbox


class PartitionHost:
    """The instances of one partition at one index, driven by the shared runtime.

    With ``progress_seconds``, it sends its counts to the driver (a PROGRESS
    message) at most that often, checked per arriving batch and per root input.
    """

    def __init__(
        self,
        plan: Plan,
        partition: int,
        index: int,
        transport: HostTransport,
        hook: pluggy.HookRelay | None = None,
        progress_seconds: float | None = None,
    ) -> None:
        self.plan, self.partition, self.index, self.transport = plan, partition, index, transport
        hook = hook or make_plugin_manager().hook
        self.order: list[Instance] = []
        for pe_id in plan.partitions[partition]:
            node = plan.nodes[pe_id]
            info = InstanceInfo(pe_id, index, node.instances)
            wrappers = [w for w in hook.d4py_wrap_process(pe=node.pe, info=info) if w is not None]
            instance = Instance(plan, pe_id, index, node.pe, transport, wrappers)
            transport.instances[(pe_id, index)] = instance
            self.order.append(instance)
        self._receivers: dict[tuple[int, int], Send] = {}
        self.progress_seconds = progress_seconds
        self._reported = time.monotonic()

    def start(self) -> None:
        """Connect every instance, then run their ``preprocess``, downstream first."""
        for instance in reversed(self.order):
            instance.connect()
        for instance in reversed(self.order):
            instance.start()

    def run_roots(self) -> None:
        """Feed this index's share of the run input to the partition's roots, then end them."""
        for instance in self.order:
            if instance.pe_id in self.plan.incoming:
                continue
            inputs = self.plan.inputs.get(instance.pe_id, [])
            for turn in range(self.index, len(inputs), self.plan.nodes[instance.pe_id].instances):
                instance.feed(inputs[turn])
                self.report_progress()
            instance.finish()

    def receiver(self, edge_index: int, target: int) -> Send:
        """The function that hands an item arriving over an edge to instance ``target`` here."""
        receive = self._receivers.get((edge_index, target))
        if receive is None:
            edge = self.plan.edges[edge_index]
            receive = self.transport.instances[(edge.target, target)].receiver(edge.input)
            self._receivers[(edge_index, target)] = receive
        return receive

    def dispatch(self, batch: Batch) -> None:
        """Hand every ITEM and END message of an arriving batch to its instance."""
        for kind, edge_index, target, payload in batch:
            if kind == ITEM:
                self.receiver(edge_index, target)(payload)
            else:
                self.transport.instances[(self.plan.edges[edge_index].target, target)].end_of_input(edge_index, payload)
        self.report_progress()

    def report_progress(self) -> None:
        """Send this host's counts to the driver if it reports progress and the last report is old enough."""
        if self.progress_seconds is None:
            return
        now = time.monotonic()
        if now - self._reported >= self.progress_seconds:
            self._reported = now
            self.transport.to_driver.put((PROGRESS, self.partition, self.index, self.counts()))

    @property
    def finished(self) -> bool:
        return all(instance.finished for instance in self.order)

    def finish(self) -> None:
        """End every instance that has not ended (pooled copies, told by their driver)."""
        for instance in self.order:
            if not instance.finished:
                instance.finish()

    def counts(self) -> dict[str, int]:
        return {instance.pe_id: instance.count for instance in self.order}


class LiveCounts:
    """The driver's running total of items per PE, from its hosts' PROGRESS and final reports."""

    def __init__(self, plan: Plan) -> None:
        self.pe_ids = list(plan.nodes)
        self.by_host: dict[tuple[int, int], dict[str, int]] = {}

    def update(self, partition: int, index: int, counts: dict[str, int]) -> dict[str, int]:
        """Record one host's counts so far; return the totals per PE."""
        self.by_host[(partition, index)] = counts
        totals = dict.fromkeys(self.pe_ids, 0)
        for host_counts in self.by_host.values():
            for pe_id, count in host_counts.items():
                totals[pe_id] += count
        return totals


def portable_error(error: BaseException, backend: str) -> BaseException:
    """An exception another process can unpickle, keeping the message and traceback."""
    if isinstance(error, D4pyError):
        try:
            pickle.loads(pickle.dumps(error))
            return error
        except Exception:  # not picklable after all: fall through to a plain copy
            pass
    text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    failure = RunFailed(f"a {backend} worker failed: {type(error).__name__}: {error}")
    failure.traceback_text = text  # type: ignore[attr-defined]
    return failure


def pe_log_level() -> int | None:
    """The level at which PE log messages are shown in this process, for workers to match."""
    logger = logging.getLogger("d4py.pe")
    return logger.getEffectiveLevel() if logger.handlers else None


def show_pe_logs(level: int) -> None:
    """Show PE log messages on stderr at ``level``, as the driver does."""
    logger = logging.getLogger("d4py.pe")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
    logger.setLevel(level)


def keep_freed_memory() -> None:
    """Stop glibc returning freed memory to the kernel after every large array.

    With its default, adaptive thresholds a worker that allocates and frees
    half-megabyte arrays (FFTs, spectra) keeps unmapping and re-faulting pages:
    measured here, 5 s of system time in a 3 s job. Fixed thresholds keep such
    blocks for reuse. Call it only in a worker process the backend owns.
    """
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL("libc.so.6")
            libc.mallopt(-3, 64 << 20)  # M_MMAP_THRESHOLD: blocks below 64 MiB come from the heap
            libc.mallopt(-1, 256 << 20)  # M_TRIM_THRESHOLD: keep up to 256 MiB free before trimming
