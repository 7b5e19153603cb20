"""One Spark task: one instance of one partition, run to the end on the items sent to it.

Spark runs a job stage by stage, so by the time a partition's task starts,
every instance upstream of it has finished: its input is complete, and
end-of-stream is implied rather than sent. The task starts as core's
:func:`~d4py.hosting.start_worker` says, hosts its instances with core's
:class:`~d4py.hosting.ProcessHost`, feeds them, ends them, and returns what
they sent on as records, the message tuples of :mod:`d4py.hosting.messages`:
``(ITEM, edge, target instance, item)`` (``TRACED`` in a traced run) for PEs downstream, ``(OUTPUT, pe id,
port, item)`` for unconnected outputs and observer reports, what the PEs
printed and logged (``PRINTED``), then ``(DONE, instance, counts)``, or
``(FAILED, instance, error)`` when a PE raised.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from d4py.backend import BatchOptions
from d4py.hosting import (
    END,
    FAILED,
    FIRST_BACKEND_KIND,
    Batch,
    HostTransport,
    Outbox,
    ProcessHost,
    SentBuffers,
    WorkerSettings,
    portable_error,
    start_worker,
)

__all__ = ["run_instance"]

Record = tuple[Any, ...]
# A task keeps its records until it ends: Spark takes them as one partition.
# (PRINTED, stdout text, stderr text): what one task's PEs printed and logged, in order.
PRINTED = FIRST_BACKEND_KIND

_UNBOUNDED = BatchOptions(batch_items=1 << 62, batch_bytes=1 << 62, flush_ms=float("inf"))


def run_instance(
    settings: WorkerSettings, partition: int, index: int, inputs: Iterable[tuple[int, Any]]
) -> Iterator[Record]:
    """Run instance ``index`` of ``partition`` on ``inputs``, (index, (edge, item)) pairs; yield its records."""
    records: list[Record] = []
    printed, logged = io.StringIO(), io.StringIO()
    host: ProcessHost | None = None
    try:
        # What the PEs print and log comes back as a record: Spark's Python workers' own output is lost.
        with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(logged):
            # Spark owns the Python worker (and may reuse it for other tasks): its memory settings stay.
            worker = start_worker(settings, own_process=False)
            # One for all, flushed at the end; arrays frozen as written, since records leave only then.
            outbox = Outbox(_keeper(records), _UNBOUNDED, SentBuffers(keep_bytes=0))
            transport = HostTransport(worker.plan, lambda process: outbox, outbox)
            host = worker.host([(partition, index)], transport, index)
            host.start()
            host.run_roots()
            host.dispatch([(kind, edge, index, payload) for _, (kind, edge, payload) in inputs])
            host.finish()
            transport.flush()
        ending = host.done()
    except BaseException as error:  # reported as a record, so the driver can name the PE and item
        if host is not None:  # its observers' last reports, and no sampler left in a Python worker Spark reuses
            records.extend(host.last_messages())
        ending = (FAILED, index, portable_error(error, "spark"))
    if printed.tell() or logged.tell():
        records.append((PRINTED, printed.getvalue(), logged.getvalue()))  # before the failure it may explain
    records.append(ending)
    yield from records


def _keeper(records: list[Record]) -> Callable[[Batch], None]:
    def keep(batch: Batch) -> None:
        records.extend(message for message in batch if message[0] != END)

    return keep
