"""One run as an MPI job: rank 0 coordinates, ranks 1 to N host the plan's partition instances.

Every rank takes rank 0's plan, so all agree on it whatever their own
interpreter built. Rank *r* hosts the *r*-th (partition, index) slot of the
plan with core's :class:`~d4py.worker.PartitionHost`; ranks beyond the
slots have nothing to do and leave. Rank 0 collects outputs, counts and the
first failure, and returns the :class:`~d4py.RunResult`. Worker ranks never
return: they leave with ``SystemExit``, so that nothing after ``run()`` runs
twice in a job.
"""

from __future__ import annotations

import atexit
import os
import sys
import time
from collections.abc import Callable

import cloudpickle
from mpi4py import MPI

from d4py import _compat
from d4py._exceptions import UsageError
from d4py.backend import OutputCollector, RunResult
from d4py.batching import DONE, FAILED, OUTPUT, Batch, Outbox
from d4py.plan import Plan
from d4py.worker import HostTransport, PartitionHost, keep_freed_memory, portable_error, show_pe_logs, slots
from d4py_mpi.channel import Channel, Pause
from d4py_mpi.launch import JobSettings, ranks_needed

__all__ = ["abort_at_exit", "run_job"]

COORDINATOR = 0


def run_job(comm: MPI.Intracomm, plan: Plan | None, settings: JobSettings | None, started: float) -> RunResult:
    """Run rank 0's plan on every rank of ``comm``; only rank 0 returns."""
    _compat.install()  # the plan may hold PEs from dispel4py 1.x workflows
    shared = cloudpickle.dumps((plan, settings)) if comm.rank == COORDINATOR else None
    # Unpickled on every rank, so each worker's PE objects are its own instances.
    plan, settings = cloudpickle.loads(comm.bcast(shared, root=COORDINATOR))
    assert plan is not None and settings is not None
    if settings.log_level is not None:
        show_pe_logs(settings.log_level)
    needed = ranks_needed(plan)
    if comm.size < needed:
        if comm.rank == COORDINATOR:
            raise UsageError(
                f"this plan needs {needed} MPI ranks (rank 0 coordinates, {needed - 1} run PE instances, "
                f"at least one each) but the job has {comm.size}: start it with mpiexec -n {needed} or more"
            )
        raise SystemExit(2)
    channel = Channel(comm, settings.in_flight)
    if comm.rank == COORDINATOR:
        return _coordinate(channel, plan, needed - 1, started)
    if comm.rank < needed:
        _serve(comm, channel, plan, settings)
    raise SystemExit(0)


def _coordinate(channel: Channel, plan: Plan, workers: int, started: float) -> RunResult:
    """Collect outputs and counts until every worker rank is done; raise the first failure."""
    collector = OutputCollector(list(plan.nodes))
    counts = dict.fromkeys(plan.nodes, 0)
    pending = set(range(1, workers + 1))
    pause = Pause()
    while pending:
        received = channel.receive()
        if received is None:
            pause.wait()
            continue
        pause.reset()
        source, batch = received
        for message in batch:
            kind = message[0]
            if kind == OUTPUT:
                collector.outputs[message[1]].setdefault(message[2], []).append(message[3])
            elif kind == DONE:
                pending.discard(source)
                for pe_id, count in message[2].items():
                    counts[pe_id] += count
            elif kind == FAILED:
                raise message[2]
    return RunResult(collector.result(), counts, time.perf_counter() - started, "mpi")


def _serve(comm: MPI.Intracomm, channel: Channel, plan: Plan, settings: JobSettings) -> None:
    """Host this rank's partition instance to the end; on failure, report it and wait to be stopped."""
    keep_freed_memory()
    try:
        partition, index = slots(plan)[comm.rank - 1]
        host = _host(channel, plan, settings, partition, index)
        host.start()
        host.run_roots()
        pause = Pause()
        while not host.finished:
            host.transport.flush()
            received = channel.receive()
            if received is None:
                pause.wait()
                continue
            pause.reset()
            host.dispatch(received[1])
        host.transport.flush()
        channel.send(COORDINATOR, [(DONE, comm.rank, host.counts())])
        channel.drain()
    except BaseException as error:  # every failure, even SystemExit, must reach rank 0
        channel.send(COORDINATOR, [(FAILED, comm.rank, portable_error(error, "mpi"))])
        pause = Pause()
        while True:  # rank 0 ends the job; this rank must not finalize MPI on its own
            pause.wait()


def _host(channel: Channel, plan: Plan, settings: JobSettings, partition: int, index: int) -> PartitionHost:
    rank_of = {slot: rank for rank, slot in enumerate(slots(plan), start=1)}
    limits = (settings.batch_items, settings.batch_bytes, settings.flush_seconds)
    outboxes: dict[int, Outbox] = {}

    def outbox_for(pe_id: str, target: int) -> Outbox:
        rank = rank_of[(plan.nodes[pe_id].partition, target)]
        if rank not in outboxes:
            outboxes[rank] = Outbox(_sender(channel, rank), *limits)
        return outboxes[rank]

    transport = HostTransport(plan, outbox_for, Outbox(_sender(channel, COORDINATOR), *limits))
    return PartitionHost(plan, partition, index, transport)


def _sender(channel: Channel, rank: int) -> Callable[[Batch], None]:
    return lambda batch: channel.send(rank, batch)


def abort_at_exit(comm: MPI.Intracomm, code: int) -> None:
    """End the whole job with ``code`` when this process exits, after what it printed has left.

    Worker ranks may be blocked or busy in a PE; only MPI_Abort stops them all.
    mpiexec forwards output asynchronously and may drop what a rank wrote just
    before aborting (seen here: one run in six lost the error message), so the
    abort waits a moment, then silences MPI's own abort notice.
    """

    def abort() -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        time.sleep(0.2)
        os.dup2(os.open(os.devnull, os.O_WRONLY), 2)
        comm.Abort(code)

    atexit.register(abort)
