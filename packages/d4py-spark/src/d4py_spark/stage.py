"""One Spark task: one instance of one partition, run to the end on the items sent to it.

Spark runs a job stage by stage, so by the time a partition's task starts,
every instance upstream of it has finished: its input is complete, and
end-of-stream is implied rather than sent. The task hosts its instances with
core's :class:`~d4py.worker.PartitionHost`, feeds them, ends them, and returns
what they sent on as records, the message tuples of :mod:`d4py.batching`:
``(ITEM, edge, target instance, item)`` for PEs downstream, ``(OUTPUT, pe id,
port, item)`` for unconnected outputs, then ``(DONE, instance, counts)``, or
``(FAILED, instance, error)`` when a PE raised.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import cloudpickle

from d4py import _compat
from d4py.batching import DONE, END, FAILED, ITEM, Batch, Outbox
from d4py.plan import Plan
from d4py.worker import HostTransport, PartitionHost, portable_error

__all__ = ["run_instance"]

Record = tuple[Any, ...]
_UNBOUNDED = 1 << 62  # a task keeps its records until it ends: Spark takes them as one partition


def run_instance(
    paths: list[str], plan_bytes: bytes, partition: int, index: int, inputs: Iterable[tuple[int, Any]]
) -> Iterator[Record]:
    """Run instance ``index`` of ``partition`` on ``inputs``, (index, (edge, item)) pairs; yield its records.

    ``paths`` is the driver's ``sys.path``: the workflow's modules import here as they did there.
    """
    records: list[Record] = []
    sys.path[:0] = [path for path in paths if path not in sys.path]
    try:
        _compat.install()  # the plan may hold PEs from dispel4py 1.x workflows
        # Unpickled in this task, so the plan's PE objects are this instance's own.
        plan: Plan = cloudpickle.loads(plan_bytes)
        outbox = Outbox(_keeper(records), _UNBOUNDED, _UNBOUNDED, float("inf"))  # one for all: flushed at the end
        transport = HostTransport(plan, lambda pe_id, target: outbox, outbox)
        host = PartitionHost(plan, partition, index, transport)
        host.start()
        host.run_roots()
        host.dispatch([(ITEM, edge, index, item) for _, (edge, item) in inputs])
        host.finish()
        transport.flush()
        records.append((DONE, index, host.counts()))
    except BaseException as error:  # reported as a record, so the driver can name the PE and item
        records.append((FAILED, index, portable_error(error, "spark")))
    yield from records


def _keeper(records: list[Record]) -> Callable[[Batch], None]:
    def keep(batch: Batch) -> None:
        records.extend(message for message in batch if message[0] != END)

    return keep
