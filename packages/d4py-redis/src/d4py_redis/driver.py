"""What a ``redis`` run does: a server, the job in it, local workers, then listen until every part is done.

The driver starts a private server (unless given ``-o url``), writes the
signed job, starts one local process per pinned worker and the first pool
worker, and then only listens to its stream: results and reports for core's
RunCollector, the ends that reach each pool, and the word that a pool
worker's copy has finished. It finishes a pool once every instance upstream
has ended and every entry added to the pool is done (counted in Redis by the
same scripts that add and commit them), and then sends the ends the pool's
planned instances would have sent. It adds pool workers, up to the limit,
while entries wait. A pinned worker that dies fails the run; a pool worker
that dies has its entries put back for the others. Whatever happens, every
process it started is stopped before :func:`run_plan` returns or raises.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import re
import secrets
import signal
import time
from multiprocessing.process import BaseProcess

import redis

from d4py import RunFailed, RunResult
from d4py.hosting import END, Batch, Message, RunCollector, stop_processes, worker_settings
from d4py.plan import Plan
from d4py.runhooks import RunHooks
from d4py_redis.backend import RedisOptions
from d4py_redis.job import COUNTED, FINISHED, POOL_END, Job, plan_job
from d4py_redis.joining import join_file
from d4py_redis.server import private_server
from d4py_redis.store import RunStore
from d4py_redis.worker import connect, run_local

__all__ = ["IDLE_SECONDS", "run_plan", "safe_url"]

_MOST_KILLED = 3  # pool workers killed in one run before it fails rather than starting another
_LISTEN_MS = 100  # how long the driver waits for a message before it looks at its processes again
IDLE_SECONDS = 0.2  # how long no entry waits in the pools before the driver retires a pool worker


def safe_url(url: str) -> str:
    """``url`` without its password, to show."""
    return re.sub(r"//[^@/]*@", "//***@", url)


def run_plan(plan: Plan, options: RedisOptions, hooks: RunHooks) -> RunResult:
    """Run ``plan`` on workers coordinated through Redis and return what its outputs produced."""
    started = time.perf_counter()
    with contextlib.ExitStack() as stack:
        url = options.url or stack.enter_context(private_server(options.server))
        client = connect(url, options.ca_file)
        stack.callback(client.close)
        try:
            client.ping()
        except (redis.RedisError, OSError) as error:
            unknown = "CERTIFICATE_VERIFY_FAILED" in str(error) and options.ca_file is None
            hint = "; give the PEM file of the CA that signed its certificate with -o ca_file=PATH" if unknown else ""
            raise RunFailed(f"cannot reach the Redis server at {safe_url(url)}: {error}{hint}") from None
        run = secrets.token_hex(8)
        store = RunStore(client, run, secrets.token_bytes(32))  # the key never goes to Redis
        if options.url is not None:
            stack.callback(_forget, store)  # a shared server keeps nothing of the run
        job = plan_job(plan, options, worker_settings(plan, hooks))
        driver = _Driver(plan, hooks, store, job, url)
        stack.callback(driver.stop)
        try:
            store.load_scripts()
            store.put_job(job)
            store.create_pools(job.pooled)
            with join_file(options.join_file, (url, run, store.key, options.ca_file)):  # once there is a job to join
                driver.watch()
        except (redis.ConnectionError, redis.TimeoutError) as error:
            raise RunFailed(f"the Redis server at {safe_url(url)} went away during the run: {error}") from None
        except redis.RedisError as error:  # out of memory, say
            raise RunFailed(f"the Redis server at {safe_url(url)} refused the run: {error}") from None
        return driver.collector.result("redis", started)


def _forget(store: RunStore) -> None:
    with contextlib.suppress(redis.RedisError):
        store.delete()


class _Driver:
    """The driver's view of a run: its local processes, and which pools are done."""

    def __init__(self, plan: Plan, hooks: RunHooks, store: RunStore, job: Job, url: str) -> None:
        self.plan, self.store, self.job = plan, store, job
        self.collector = RunCollector(plan, hooks, range(len(job.layout)))
        self.url = url
        self.context = multiprocessing.get_context("fork")  # workers start with what the driver imported
        self.processes: dict[int, BaseProcess] = {}  # local workers by number
        self.pinned = len(job.layout)
        self.expected = {p: plan.entry_ends(p) for p in job.pooled}
        self.ended: dict[int, set[tuple[int, int]]] = {p: set() for p in job.pooled}
        self.finishing: dict[int, set[int]] = {}  # pools told to finish -> pool workers yet to say so
        self.finished: set[int] = set()
        self.lost: set[int] = set()  # pool workers (by number) gone without a word
        self.kills = 0  # pool workers killed by a signal
        self.worker_of = {slot: number for number, slots in enumerate(job.layout) for slot in slots}
        self.last = b"0-0"
        self.remote_checked = 0.0
        self.retired: set[int] = set()  # pool workers told to leave
        self.copies_done: set[tuple[int, int]] = set()  # (pool worker, pool) whose copy has finished
        self.idle_since = time.monotonic()  # since when no entry has waited in an open pool

    def _start(self, number: int, pinned: bool) -> None:
        """Fork local worker ``number``: pinned, or a pool worker (told its ordinal among pool workers)."""
        argument = number if pinned else number - self.pinned
        run, key, ca_file = self.store.prefix.split(":")[1], self.store.key, self.job.options.ca_file
        details = (os.getpid(), self.url, ca_file, run, key, pinned, argument)
        process = self.context.Process(target=run_local, args=details, name=f"d4py-redis-{number}")
        process.start()
        self.processes[number] = process
        self.collector.expect(number)

    def stop(self) -> None:
        stop_processes(list(self.processes.values()))

    def watch(self) -> None:
        for number in range(self.pinned):
            self._start(number, pinned=True)
        while not self.collector.done or len(self.finished) < len(self.job.pooled):
            self._listen(_LISTEN_MS)
            self._check_pools()
            self._check_processes()
            self._check_remote()
            self._resize()

    def _listen(self, block_ms: int | None) -> int:
        """Handle the next entries of the driver's stream (a few at a time); returns how many there were."""
        client, stream, taken = self.store.client, self.store.driver, 0
        for _, entries in self.store.take({stream: self.last}, block_ms):
            taken += len(entries)
            for entry, fields in entries:
                if b"join" in fields:
                    self._joined(self.pinned + int(fields[b"join"]))
                else:
                    for message in self.collector.handle(self.store.read(stream, fields)):
                        self._handle(message)
                self.last = entry
            client.xdel(stream, *(entry for entry, _ in entries))
        return taken

    def _joined(self, number: int) -> None:
        if number not in self.lost:
            self.collector.expect(number)

    def _handle(self, message: Message) -> None:
        kind = message[0]
        if kind == COUNTED:
            for pe_id, count in message[1].items():
                self.collector.counts[pe_id] += count
        elif kind == POOL_END:
            self.ended[message[1]].add((message[2], message[3]))
        elif kind == FINISHED:
            self._copy_finished(message[1], message[2])

    def _check_pools(self) -> None:
        """Finish every pool whose upstream has ended and whose every entry is done."""
        waiting = [p for p in self.job.pooled if p not in self.finishing and self.ended[p] >= self.expected[p]]
        for partition, (added, done) in self.store.pool_counts(waiting).items():
            if added == done:
                told = {self.pinned + ordinal for ordinal in self.store.finish_pool(partition)}
                told |= self.retired & self.collector.pending  # leaving: each says its copies have finished
                self.finishing[partition] = {n for n in told - self.lost if (n, partition) not in self.copies_done}
                if not self.finishing[partition]:
                    self._end_downstream(partition)

    def _copy_finished(self, number: int, partition: int) -> None:
        self.copies_done.add((number, partition))
        waiting = self.finishing.get(partition)
        if waiting is None:
            return  # a retired worker's copy, before the pool is done
        waiting.discard(number)
        if not waiting and partition not in self.finished:
            self._end_downstream(partition)

    def _end_downstream(self, partition: int) -> None:
        """Send the end-of-stream marks the partition's planned instances would have sent."""
        self.finished.add(partition)
        batches: dict[int, Batch] = {}
        for edge, target, source in self.plan.exit_ends(partition):
            target_partition = self.plan.nodes[edge.target].partition
            if target_partition in self.ended:
                if target == 0:  # once per edge and source: the pool is one consumer
                    self.ended[target_partition].add((edge.index, source))
            else:
                worker = self.worker_of[(target_partition, target)]
                batches.setdefault(worker, []).append((END, edge.index, target, source))
        self.store.send([self.store.output(self.store.inbox(worker), batch) for worker, batch in batches.items()])

    def _check_processes(self) -> None:
        for number, process in list(self.processes.items()):
            if process.is_alive() or not self._unheard(number):
                continue
            if number < self.pinned:
                raise RunFailed(f"{self._describe(number, process)} died: {_exit_reason(process)}")
            # Exit code 0 without a word: it came when every pool was done, and did not join.
            code = process.exitcode or 0
            killed = code < 0
            if code > 0 or (killed and self.kills >= _MOST_KILLED):  # an error, or kills that repeat
                pes = ", ".join(f"'{pe_id}'" for p in self.job.pooled for pe_id in self.plan.partitions[p])
                raise RunFailed(f"a pool worker (pid {process.pid}) running PE {pes} died: {_exit_reason(process)}")
            self.kills += killed
            self._lost_pool_worker(number)

    def _lost_pool_worker(self, number: int) -> None:
        """Put back what a pool worker gone without a word held; the pools go on without it."""
        ordinal = number - self.pinned
        self.collector.pending.discard(number)
        self.lost.add(number)
        self.store.leave(ordinal)
        for partition in self.job.pooled:
            self.store.requeue(self.store.pool(partition), self.store.consumer(ordinal))
        for partition, waiting in list(self.finishing.items()):
            if number in waiting:
                self._copy_finished(number, partition)
        self.processes.pop(number, None)

    def _check_remote(self) -> None:
        """Count a worker of another machine as lost once it has not read for ``claim_ms`` (looked at each second)."""
        now = time.monotonic()
        if now - self.remote_checked < 1:
            return
        self.remote_checked = now
        for number in [n for n in self.collector.pending if n >= self.pinned and n not in self.processes]:
            ordinal = number - self.pinned
            silent = self.store.idle_ms(self.store.control(ordinal), self.store.consumer(ordinal))
            if silent > self.job.options.claim_ms and self._unheard(number):
                self._lost_pool_worker(number)

    def _unheard(self, number: int) -> bool:
        """Whether worker ``number`` has not said it is done, once every message in the stream is read (no blocking).

        Its last word may wait behind many others (the driver reads 16 at a time): a worker judged before it is
        read is taken for lost, and the run can end with what it committed unread.
        """
        while number in self.collector.pending and self._listen(None):
            pass
        return number in self.collector.pending

    def _resize(self) -> None:
        """Start a pool worker while entries wait, up to the limit (always one while pools run); retire idle ones.

        When no entry has waited for ``IDLE_SECONDS``, the newest local pool worker is told to leave, one at a time.
        """
        open_pools = [p for p in self.job.pooled if p not in self.finishing]
        live = [n for n in self.processes if n >= self.pinned and n in self.collector.pending and n not in self.retired]
        if not open_pools:
            return
        waiting = sum(added - done for added, done in self.store.pool_counts(open_pools).values())
        now = time.monotonic()
        if len(live) < self.job.pool_workers and (not live or waiting > len(live)):
            self._start(self.pinned + self.store.new_ordinal(), pinned=False)
        elif waiting or len(live) < 2:
            self.idle_since = now
        elif now - self.idle_since >= IDLE_SECONDS:
            newest = max(live)
            self.retired.add(newest)
            self.store.retire(newest - self.pinned)
            self.idle_since = now  # the next one waits as long again

    def _describe(self, number: int, process: BaseProcess) -> str:
        hosted = ", ".join(
            f"'{pe_id}' (instance {index})"
            for partition, index in self.job.layout[number]
            for pe_id in self.plan.partitions[partition]
        )
        return f"the worker (pid {process.pid}) running PE {hosted}"


def _exit_reason(process: BaseProcess) -> str:
    code = process.exitcode
    if code is not None and code < 0:
        return f"killed by {signal.Signals(-code).name}"
    return f"exit code {code} before reporting its end"
