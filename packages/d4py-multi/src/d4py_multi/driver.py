"""What a ``multi`` run does: start a worker per partition instance, then listen until all are done.

The driver (the process that called ``run``) starts a worker for every
instance of every partition, then only listens: to the results and reports
the workers send, and to their process sentinels, so that a worker that dies
is noticed at once. Whatever happens, every worker is stopped before
:func:`run_plan` returns or raises.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from typing import TYPE_CHECKING, Any

import cloudpickle
import pluggy

from d4py import RunFailed, RunResult
from d4py.backend import OutputCollector
from d4py.batching import DONE, FAILED, OUTPUT, PROGRESS
from d4py.plan import Plan
from d4py.worker import LiveCounts, pe_log_level, slots
from d4py_multi.mailbox import Mailbox
from d4py_multi.outbox import FINISHED, POOL_END, POOL_IDLE
from d4py_multi.pool import PoolCoordinator
from d4py_multi.threads import limit_in_driver, threads_per_worker
from d4py_multi.worker import Pool, WorkerSpec, run_worker

if TYPE_CHECKING:
    from d4py_multi.backend import MultiOptions

__all__ = ["run_plan"]


def run_plan(plan: Plan, options: MultiOptions, hook: pluggy.HookRelay) -> RunResult:
    """Run ``plan`` on worker processes of this machine and return what its outputs produced."""
    started = time.perf_counter()
    context = multiprocessing.get_context(options.start_method)
    pooled = {p for p in range(len(plan.partitions)) if options.mode == "dynamic" and plan.poolable(p)}
    workers = [(p, k) for p, k in slots(plan) if p not in pooled]
    mailboxes = [Mailbox(context) for _ in workers]
    driver = Mailbox(context)
    pools = {p: Pool(Mailbox(context, shared=True), context.Value("q", 0)) for p in pooled}
    pool_size = options.pool_size or os.cpu_count() or 1
    threads = threads_per_worker(options.native_threads, len(workers) + pool_size * len(pools))
    controls: list[Mailbox] = []
    common: dict[str, Any] = {
        "plan_bytes": cloudpickle.dumps(plan),
        "worker_of": {worker: number for number, worker in enumerate(workers)},
        "mailboxes": mailboxes,
        "driver": driver,
        "batch_items": options.batch_items,
        "batch_bytes": options.batch_bytes,
        "flush_seconds": options.flush_ms / 1000,
        "read_ahead_bytes": options.read_ahead_bytes,
        "native_threads": threads,
        "progress_seconds": options.progress_ms / 1000,
        "log_level": pe_log_level(),
        "driver_pid": os.getpid(),
        "pools": pools,
    }
    processes: list[BaseProcess] = []
    supervisor = _Supervisor(plan, list(workers), processes, driver, hook)

    def start(spec: WorkerSpec) -> None:
        process = context.Process(target=run_worker, args=(spec,), name=f"d4py-multi-{spec.number}", daemon=True)
        process.start()
        processes.append(process)
        supervisor.pending.add(spec.number)

    pool_sizes: dict[int, int] = dict.fromkeys(pools, 0)

    def start_pool_worker(partition: int) -> tuple[int, Mailbox]:
        number, index, control = len(processes), pool_sizes[partition], Mailbox(context)
        pool_sizes[partition] += 1
        controls.append(control)
        supervisor.workers.append((partition, index))
        start(WorkerSpec(number=number, partition=partition, index=index, control=control, **common))
        return number, control

    try:
        with limit_in_driver(threads):
            for number, (partition, index) in enumerate(workers):
                start(WorkerSpec(number=number, partition=partition, index=index, **common))
            if pools:
                supervisor.pools = PoolCoordinator(
                    plan, pools, mailboxes, common["worker_of"], start_pool_worker, pool_size, options.batch_items
                )
                supervisor.pools.start()
            supervisor.watch()
    finally:
        _stop(processes)
        for box in [*mailboxes, driver, *controls, *(pool.queue for pool in pools.values())]:
            box.close()
    return RunResult(supervisor.collector.result(), supervisor.counts, time.perf_counter() - started, "multi")


class _Supervisor:
    """Listens to the workers until each has reported done; raises on the first failure or death."""

    def __init__(
        self,
        plan: Plan,
        workers: list[tuple[int, int]],
        processes: list[BaseProcess],
        driver: Mailbox,
        hook: pluggy.HookRelay,
    ):
        self.plan, self.workers, self.processes, self.driver, self.hook = plan, workers, processes, driver, hook
        self.collector = OutputCollector(list(plan.nodes))
        self.counts = dict.fromkeys(plan.nodes, 0)
        self.live = LiveCounts(plan)
        self.pending: set[int] = set()
        self.pools: PoolCoordinator | None = None

    def watch(self) -> None:
        while self.pending:
            sentinels = {self.processes[n].sentinel: n for n in self.pending}
            # While a pool may grow or shrink, look at its queue every 20 ms; otherwise just wait.
            timeout = 0.02 if self.pools is not None and self.pools.resizing else None
            ready = wait([self.driver.connection, *sentinels], timeout)
            self._drain()
            if self.pools is not None:
                self.pools.resize()
            for handle in ready:
                number = sentinels.get(handle) if isinstance(handle, int) else None
                if number is not None and number in self.pending:
                    self._drain()  # a last report may still be in the pipe
                    if number in self.pending:
                        raise RunFailed(f"{self._describe(number)} died: {_exit_reason(self.processes[number])}")

    def _drain(self) -> None:
        while self.driver.ready():
            for message in self.driver.receive():
                self._handle(message)

    def _handle(self, message: tuple[Any, ...]) -> None:
        kind = message[0]
        if kind == OUTPUT:
            _, pe_id, port, item = message
            self.collector.outputs[pe_id].setdefault(port, []).append(item)
        elif kind == DONE:
            _, number, counts = message
            self.pending.discard(number)
            for pe_id, count in counts.items():
                self.counts[pe_id] += count
        elif kind == PROGRESS:
            self.hook.d4py_run_progress(counts=self.live.update(*message[1:]))
        elif kind == FAILED:
            raise message[2]
        elif self.pools is not None and kind == POOL_END:
            self.pools.upstream_ended(*message[1:])
        elif self.pools is not None and kind == POOL_IDLE:
            self.pools.check(message[1])
        elif self.pools is not None and kind == FINISHED:
            self.pools.worker_finished(message[1])

    def _describe(self, number: int) -> str:
        partition, index = self.workers[number]
        pes = ", ".join(f"'{pe_id}'" for pe_id in self.plan.partitions[partition])
        return f"the worker running PE {pes} (instance {index}, pid {self.processes[number].pid})"


def _exit_reason(process: BaseProcess) -> str:
    # The sentinel closes a moment before the kernel reports the exit status: wait for the status.
    process.join(timeout=5)
    code = process.exitcode
    if code is not None and code < 0:
        return f"killed by {signal.Signals(-code).name}"
    return f"exit code {code} before reporting its end"


def _stop(processes: list[BaseProcess]) -> None:
    """Stop every worker still running and reap them all."""
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(timeout=5)
        if process.is_alive():
            process.kill()
            process.join()
