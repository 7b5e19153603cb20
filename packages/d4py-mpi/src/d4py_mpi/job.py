"""One run as an MPI job: rank 0 coordinates, ranks 1 to N host the processes of the plan's layout.

Every rank takes rank 0's :class:`~d4py_mpi.launch.Job`, so all agree on the
plan whatever their own interpreter built, and starts as core's
:func:`~d4py.hosting.start_worker` says. Rank *r* hosts the *r*-th process
of the layout with core's :class:`~d4py.hosting.ProcessHost`; ranks beyond
the layout have nothing to do and leave. Rank 0 hands what the ranks send to
core's :class:`~d4py.hosting.RunCollector` and returns the
:class:`~d4py.RunResult`. Worker ranks never return: they leave with
``SystemExit``, so that nothing after ``run()`` runs twice in a job.
"""

from __future__ import annotations

import atexit
import os
import pickle
import sys
import time
from collections.abc import Callable
from typing import Any

from mpi4py import MPI

from d4py._exceptions import UsageError
from d4py.backend import RunResult
from d4py.hosting import (
    FAILED,
    Batch,
    HostTransport,
    Outbox,
    ProcessHost,
    RunCollector,
    SentBuffers,
    Worker,
    portable_error,
    start_worker,
)
from d4py.runhooks import RunHooks
from d4py_mpi.channel import Channel, Pause
from d4py_mpi.launch import Job
from d4py_mpi.leftovers import unlink_mapped

__all__ = ["Job", "abort_at_exit", "run_job"]

COORDINATOR = 0


def run_job(
    comm: MPI.Intracomm,
    job: Job | None,
    started: float,
    hooks: RunHooks | None,
    reports: list[tuple[Any, ...]] | None = None,
) -> RunResult:
    """Run rank 0's ``job`` on every rank of ``comm``; only rank 0 returns, with the result.

    When ``hooks`` is None (rank 0 is not the driving process), the observer
    reports go to ``reports``, the run's failure or not.
    """
    shared = pickle.dumps(job) if comm.rank == COORDINATOR else None
    job = pickle.loads(comm.bcast(shared, root=COORDINATOR))
    assert job is not None
    worker = start_worker(job.settings, own_process=comm.rank != COORDINATOR)
    if comm.size < job.ranks:
        if comm.rank == COORDINATOR:
            raise UsageError(
                f"this plan needs {job.ranks} MPI ranks (rank 0 coordinates, {job.ranks - 1} run PEs) but the job "
                f"has {comm.size}: start it with mpiexec -n {job.ranks} or more, or give -n {comm.size - 1} or less"
            )
        raise SystemExit(2)
    channel = Channel(comm, job.options.in_flight)
    if comm.rank == COORDINATOR:
        collector = RunCollector(worker.plan, hooks, range(1, job.ranks))
        if reports is not None:
            collector.reports = reports
        _coordinate(channel, collector)
        return collector.result("mpi", started)
    if comm.rank < job.ranks:
        _serve(comm.rank, channel, worker, job)
    raise SystemExit(0)


def _coordinate(channel: Channel, collector: RunCollector) -> None:
    """Hand what the ranks send to ``collector`` until every rank is done; it raises the first failure."""
    pause = Pause()
    while not collector.done:
        received = channel.receive()
        if received is None:
            pause.wait()
            continue
        pause.reset()
        collector.handle(received[1])


def _serve(rank: int, channel: Channel, worker: Worker, job: Job) -> None:
    """Host this rank's process of the layout to the end; on failure, report it and wait to be stopped."""
    host: ProcessHost | None = None
    try:
        outboxes: dict[int, Outbox] = {}

        def outbox_for(process: int) -> Outbox:
            if process not in outboxes:
                outboxes[process] = Outbox.framing(_sender(channel, process + 1), job.options)
            return outboxes[process]

        to_driver = Outbox.framing(_sender(channel, COORDINATOR), job.options)
        transport = HostTransport(worker.plan, outbox_for, to_driver)
        host = worker.host(worker.plan.layout[rank - 1], transport, rank)
        host.start()
        host.run_roots()
        pause = Pause()
        while not host.finished:
            transport.flush()
            received = channel.receive()
            if received is None:
                pause.wait()
                continue
            pause.reset()
            host.dispatch(received[1], channel.received.queued)
        transport.flush()
        channel.send(COORDINATOR, [host.done()])
        channel.drain()
    except BaseException as error:  # every failure, even SystemExit, must reach rank 0
        failed = (FAILED, rank, portable_error(error, "mpi"))
        try:  # the failure goes with its instances' last reports, or alone if those cannot be sent
            channel.send(COORDINATOR, [*(host.last_messages() if host is not None else []), failed])
        except Exception:
            channel.send(COORDINATOR, [failed])
        pause = Pause()
        while True:  # rank 0 ends the job; this rank must not finalize MPI on its own
            pause.wait()


def _sender(channel: Channel, rank: int) -> Callable[[Batch, SentBuffers], None]:
    return lambda batch, sent: channel.send(rank, batch, sent)


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
        unlink_mapped()
        comm.Abort(code)

    atexit.register(abort)
