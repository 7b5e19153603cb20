"""A complete multi-process backend built from ``d4py.hosting`` alone (docs/plugins.md walks through it).

The transport is a ``multiprocessing`` queue per process, carrying core's
frames; the launcher is ``multiprocessing.Process``, one per process of the
plan's layout. Everything else (hosting, routing, end-of-stream, outputs,
counts, failures, plugins in every process, observer reports) is core's.
"""

from __future__ import annotations

import multiprocessing
import queue
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from d4py import Backend, RunFailed, RunResult, hookimpl
from d4py.backend import BatchOptions
from d4py.hosting import (
    FAILED,
    Batch,
    HostTransport,
    Outbox,
    ReceivedBuffers,
    RunCollector,
    SentBuffers,
    WorkerSettings,
    decode,
    encode,
    portable_error,
    start_worker,
    worker_settings,
)
from d4py.plan import Plan
from d4py.runhooks import RunHooks


@dataclass(frozen=True)
class QueueOptions(BatchOptions):
    """Options of the queues backend: the batch options, and how many batches a queue holds."""

    queue_batches: int = 8


class QueueBackend(Backend):
    """One process per process of the plan's layout, joined by bounded queues."""

    name = "queues"
    description = "an example: multiprocessing queues between the processes of the plan's layout"
    Options = QueueOptions
    runs_partition_cycles = False  # bounded queues: partitions that feed each other could deadlock

    def run(self, plan: Plan, hooks: RunHooks) -> RunResult:
        started = time.perf_counter()
        context = multiprocessing.get_context("fork")
        inboxes = [context.Queue(self.options.queue_batches) for _ in plan.layout]
        driver = context.Queue()
        settings = worker_settings(plan, hooks)
        workers = [
            context.Process(target=_work, args=(number, settings, self.options, inboxes, driver), daemon=True)
            for number in range(len(plan.layout))
        ]
        for worker in workers:
            worker.start()
        collector = RunCollector(plan, hooks, range(len(workers)))
        received = ReceivedBuffers()
        try:
            while not collector.done:
                try:
                    collector.handle(decode(*driver.get(timeout=0.5), received))
                except queue.Empty:
                    dead = [n for n in collector.pending if workers[n].exitcode is not None]
                    if dead and driver.empty():
                        raise RunFailed(f"worker {dead[0]} died (exit code {workers[dead[0]].exitcode})") from None
        finally:
            for worker in workers:
                worker.terminate()
                worker.join()
        return collector.result(self.name, started)


def _sender(box: Any) -> Callable[[Batch, SentBuffers], None]:
    def send(batch: Batch, sent: SentBuffers) -> None:
        frame, raws = encode(batch, sent)  # an array this process sent the destination before is named, not sent
        box.put((frame, [bytearray(raw) for raw in raws]))  # a queue pickles what it carries

    return send


def _work(number: int, settings: WorkerSettings, options: QueueOptions, inboxes: list[Any], driver: Any) -> None:
    """One process of the layout: start as core says, host this process's slots, then serve the inbox."""
    to_driver = Outbox.framing(_sender(driver), options)
    try:
        worker = start_worker(settings)
        outboxes = [Outbox.framing(_sender(box), options) for box in inboxes]
        received = ReceivedBuffers()  # what the senders asked this process to keep
        transport = HostTransport(worker.plan, outboxes.__getitem__, to_driver)
        host = worker.host(worker.plan.layout[number], transport, number)
        host.start()
        host.run_roots()
        while not host.finished:
            transport.flush()
            host.dispatch(decode(*inboxes[number].get(), received))
        transport.flush()
        to_driver.put(host.done())
    except BaseException as error:
        to_driver.put((FAILED, number, portable_error(error, "queues")))
    to_driver.flush()


@hookimpl
def d4py_backends() -> list[type[Backend]]:
    return [QueueBackend]
