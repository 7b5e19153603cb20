"""What a ``multi`` run does: start a worker per process of the layout, then listen until all are done.

The driver (the process that called ``run``) starts a worker for every
process of the plan's layout (at most the budget ``-n``), then only listens:
to the results and reports the workers send, and to their process
sentinels, so that a worker that dies is noticed at once. Whatever happens, every worker is stopped before
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

from d4py import RunFailed, RunResult
from d4py.hosting import RunCollector, stop_processes, worker_settings
from d4py.hosting.regions import Regions
from d4py.plan import Plan, Slot, lay_out
from d4py.runhooks import RunHooks
from d4py_multi.mailbox import Mailbox, lend_limit
from d4py_multi.pool import FINISHED, POOL_END, POOL_IDLE, Pool, PoolCoordinator
from d4py_multi.threads import limit_in_driver, threads_per_worker
from d4py_multi.worker import WorkerSpec, run_worker

if TYPE_CHECKING:
    from d4py_multi.backend import MultiOptions

__all__ = ["run_plan"]


def run_plan(plan: Plan, options: MultiOptions, hooks: RunHooks) -> RunResult:
    """Run ``plan`` on worker processes of this machine and return what its outputs produced."""
    started = time.perf_counter()
    context = multiprocessing.get_context(options.start_method)
    pool_limits = _pool_limits(plan, options) if options.mode == "dynamic" else {}
    pooled = set(pool_limits)
    layout = _pinned_layout(plan, pooled, sum(pool_limits.values()))
    # Forked workers share large buffers through memory files: one region per pinned worker (pool workers start
    # later, and send theirs through the pipes). The driver's own mailbox takes outputs: copied, as before.
    regions = _regions(len(layout), options) if context.get_start_method() == "fork" else None
    mailboxes = [Mailbox(context, regions=regions) for _ in layout]
    driver = Mailbox(context)
    pools = {p: Pool(Mailbox(context, shared=True, regions=regions), context.Value("q", 0)) for p in pooled}
    threads = threads_per_worker(options.native_threads, len(layout) + sum(pool_limits.values()))
    controls: list[Mailbox] = []
    common: dict[str, Any] = {
        "settings": worker_settings(plan, hooks),
        "options": options,
        "layout": layout,
        "mailboxes": mailboxes,
        "driver": driver,
        "native_threads": threads,
        "driver_pid": os.getpid(),
        "pools": pools,
        "regions": regions,
    }
    processes: list[BaseProcess] = []
    supervisor = _Supervisor(plan, hooks, processes, driver)

    def start(spec: WorkerSpec) -> None:
        process = context.Process(target=run_worker, args=(spec,), name=f"d4py-multi-{spec.number}", daemon=True)
        process.start()
        processes.append(process)
        supervisor.slots.append(spec.slots)
        supervisor.collector.expect(spec.number)

    pool_sizes: dict[int, int] = dict.fromkeys(pools, 0)

    def start_pool_worker(partition: int) -> tuple[int, Mailbox]:
        number, index, control = len(processes), pool_sizes[partition], Mailbox(context)
        pool_sizes[partition] += 1
        controls.append(control)
        start(WorkerSpec(number=number, slots=[(partition, index)], control=control, **common))
        return number, control

    try:
        with limit_in_driver(threads):
            for number, slots in enumerate(layout):
                start(WorkerSpec(number=number, slots=slots, **common))
            if pools:
                worker_of = {slot: number for number, slots in enumerate(layout) for slot in slots}
                supervisor.pools = PoolCoordinator(
                    plan, pools, mailboxes, worker_of, start_pool_worker, pool_limits, options.batch_items
                )
                supervisor.pools.start()
            supervisor.watch()
    finally:
        stop_processes(processes)
        for box in [*mailboxes, driver, *controls, *(pool.queue for pool in pools.values())]:
            box.close()
        if regions is not None:
            regions.close()
    return supervisor.collector.result("multi", started)


def _regions(count: int, options: MultiOptions) -> Regions | None:
    """One memory file per pinned worker, or None where they cannot be made (then arrays go through pipes)."""
    if not Regions.possible():
        return None
    try:
        return Regions(count, lend_limit=lend_limit(options))
    except OSError:  # out of descriptors, or memory files refused
        return None


def _pool_limits(plan: Plan, options: MultiOptions) -> dict[int, int]:
    """Dynamic mode: the partitions to pool, and the most workers each may have at once.

    A pool may have ``pool_size`` workers, or as many as its partition's
    planned instances. Under a budget, pools and the pinned slots share it:
    at least one process stays for the pinned slots, so only as many
    partitions are pooled as leave room, and the largest pools give up
    workers until the total fits.
    """
    poolable = [p for p in plan.flow_order() if plan.poolable(p)]
    if plan.processes is not None:
        poolable = poolable[: plan.processes - 1]
    limits = {p: options.pool_size or plan.nodes[plan.partitions[p][0]].instances for p in poolable}
    if plan.processes is not None:
        while sum(limits.values()) > plan.processes - 1:
            largest = max(limits, key=limits.__getitem__)
            limits[largest] -= 1
    return limits


def _pinned_layout(plan: Plan, pooled: set[int], pool_workers: int) -> list[list[Slot]]:
    """The plan's layout, or in dynamic mode the layout of the slots left in place beside the pools."""
    if not pooled:
        return plan.layout
    pinned = [slot for slot in plan.slots() if slot[0] not in pooled]
    budget = None if plan.processes is None else max(1, plan.processes - pool_workers)
    return lay_out(pinned, budget)


class _Supervisor:
    """Listens to the workers until each has reported done; raises on the first failure or death."""

    def __init__(self, plan: Plan, hooks: RunHooks, processes: list[BaseProcess], driver: Mailbox):
        self.plan, self.processes, self.driver = plan, processes, driver
        self.collector = RunCollector(plan, hooks)
        self.slots: list[list[Slot]] = []  # by worker number
        self.pools: PoolCoordinator | None = None

    def watch(self) -> None:
        while not self.collector.done:
            sentinels = {self.processes[n].sentinel: n for n in self.collector.pending}
            # While a pool may grow or shrink, look at its queue every 20 ms; otherwise just wait.
            timeout = 0.02 if self.pools is not None and self.pools.resizing else None
            ready = wait([self.driver.connection, *sentinels], timeout)
            self._drain()
            if self.pools is not None:
                self.pools.resize()
            for handle in ready:
                number = sentinels.get(handle) if isinstance(handle, int) else None
                if number is not None and number in self.collector.pending:
                    self._drain()  # a last report may still be in the pipe
                    if number in self.collector.pending:
                        raise RunFailed(f"{self._describe(number)} died: {_exit_reason(self.processes[number])}")

    def _drain(self) -> None:
        while self.driver.ready():
            for message in self.collector.handle(self.driver.receive()):
                self._handle_pool(message)

    def _handle_pool(self, message: tuple[Any, ...]) -> None:
        kind = message[0]
        if self.pools is None:
            return
        if kind == POOL_END:
            self.pools.upstream_ended(*message[1:])
        elif kind == POOL_IDLE:
            self.pools.check(message[1])
        elif kind == FINISHED:
            self.pools.worker_finished(message[1])

    def _describe(self, number: int) -> str:
        pid, slots = self.processes[number].pid, self.slots[number]
        if len(slots) == 1:
            ((partition, index),) = slots
            pes = ", ".join(f"'{pe_id}'" for pe_id in self.plan.partitions[partition])
            return f"the worker running PE {pes} (instance {index}, pid {pid})"
        hosted = ", ".join(f"'{pe}' (instance {index})" for p, index in slots for pe in self.plan.partitions[p])
        return f"the worker (pid {pid}) running PE {hosted}"


def _exit_reason(process: BaseProcess) -> str:
    # The sentinel closes a moment before the kernel reports the exit status: wait for the status.
    process.join(timeout=5)
    code = process.exitcode
    if code is not None and code < 0:
        return f"killed by {signal.Signals(-code).name}"
    return f"exit code {code} before reporting its end"
