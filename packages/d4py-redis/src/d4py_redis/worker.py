"""A worker process: pinned (the slots the job's layout gives it) or a pool worker (a copy of every pooled partition).

A pinned worker appends what its instances write as soon as a batch is
full, and reads its inbox in order. A pool worker takes one entry at a time
from any pool stream (consumer group ``d4py``), runs its items, and commits
what they wrote together with the entry's acknowledgement
(:meth:`~d4py_redis.store.RunStore.commit`): if another worker has reclaimed
the entry meanwhile, nothing of it is committed here. Local workers are
forked by the driver (:func:`run_local`), so the run's key reaches them in
memory, and the modules the driver imported come with them.
"""

from __future__ import annotations

from collections import deque

import redis

from d4py.hosting import (
    DONE,
    FAILED,
    ITEMS,
    Batch,
    ProcessHost,
    ReceivedBuffers,
    approximate_size,
    die_with_parent,
    portable_error,
    start_worker,
)
from d4py.plan import Plan
from d4py_redis.backend import MAX_BLOCK_MS
from d4py_redis.job import COUNTED, FINISHED, Job
from d4py_redis.processes import name_process
from d4py_redis.store import Entries, Output, RunStore
from d4py_redis.transport import RedisTransport

__all__ = ["connect", "run_local", "serve"]


def connect(url: str, ca_file: str | None = None) -> redis.Redis:
    """A client for ``url`` whose reads outlast the longest blocking read, and fail if the server stops answering.

    ``ca_file``: for a rediss:// URL, the PEM file of the certificates that may sign the server's.
    """
    tls = {"ssl_ca_certs": ca_file} if ca_file is not None else {}
    return redis.Redis.from_url(url, socket_connect_timeout=10, socket_timeout=MAX_BLOCK_MS / 1000 + 10, **tls)


def run_local(driver: int, url: str, ca_file: str | None, run: str, key: bytes, pinned: bool, number: int) -> None:
    """A local worker, forked by the driver (pid ``driver``): pinned worker ``number``, or pool worker ``number``."""
    die_with_parent(driver)
    name_process(f"d4py-{'pinned' if pinned else 'pool'}-{number}")
    serve(RunStore(connect(url, ca_file), run, key), pinned, number)


def serve(store: RunStore, pinned: bool, number: int | None) -> None:
    """Work for the run of ``store`` until its part is done: pinned worker ``number``, or a pool worker.

    A pool worker the driver did not start has no ``number``: it takes the next.
    """
    job: Job = store.get_job()
    if pinned:
        assert number is not None
        _Pinned(store, job, number).run()
    else:
        _Pooled(store, job).run(number)


class _Pinned:
    """A pinned worker: its slots' instances, fed from its inbox."""

    def __init__(self, store: RunStore, job: Job, number: int) -> None:
        self.store, self.job, self.number = store, job, number
        self.inbox, self.last = store.inbox(number), b"0-0"
        self.backlog: deque[dict[bytes, bytes]] = deque()  # entries taken out of the inbox while sending waited

    def run(self) -> None:
        store, number, options = self.store, self.number, self.job.options
        host: ProcessHost | None = None
        try:
            worker = start_worker(self.job.settings)

            # Only a worker fed by its own pools takes its inbox in while it waits (without, it would wait on itself);
            # any other waits, and the inboxes before it fill to their bound.
            waiting = self._take_in if number in self.job.fed_by_own_pools else _nothing

            def send(output: Output) -> None:
                store.send_when_room(output, options.pool_entries, options.inbox_entries, waiting)

            transport = RedisTransport(worker.plan, self.job, store, send, False)
            host = worker.host(self.job.layout[number], transport, number, progress_seconds=0.5)
            host.start()
            host.run_roots()
            self._serve(host)
            transport.flush()
            store.send([store.output(store.driver, [host.done()])])
        except BaseException as error:  # every failure, even SystemExit, must reach the driver
            failed = (FAILED, number, portable_error(error, "redis"))
            try:  # the failure goes with its instances' last reports, or alone if those cannot be sent
                store.send([store.output(store.driver, [*(host.last_messages() if host is not None else []), failed])])
            except Exception:
                store.send([store.output(store.driver, [failed])])

    def _serve(self, host: ProcessHost) -> None:
        received = ReceivedBuffers()  # arrays pinned senders asked this worker to keep
        while not host.finished:
            host.transport.flush()
            if not self.backlog:
                self._take_in(self.job.options.block_ms)
            while self.backlog and not host.finished:
                host.dispatch(self.store.read(self.inbox, self.backlog.popleft(), received), received.queued)

    def _take_in(self, block_ms: int | None = None) -> None:
        """Move what the inbox holds to the backlog (waiting up to ``block_ms`` for something).

        Called while a send waits for room too, by a worker fed by its own pools: what it takes waits here, in
        memory and in order, so that the pool it waits for has room in its inbox to commit into.
        """
        for _, entries in self.store.take({self.inbox: self.last}, block_ms):
            self.backlog.extend(fields for _, fields in entries)
            self.last = entries[-1][0]
            self.store.client.xdel(self.inbox, *(entry for entry, _ in entries))


def _nothing() -> None:
    pass


class _Pooled:
    """A pool worker: one copy of every pooled partition not yet done, fed one committed entry at a time."""

    def __init__(self, store: RunStore, job: Job) -> None:
        self.store, self.job = store, job
        self.pending: list[Output] = []
        self.host: ProcessHost | None = None

    def run(self, ordinal: int | None) -> None:
        """Join the run (as pool worker ``ordinal``, or the next) and work until its pools are done.

        A worker that cannot load the workflow fails here, before joining: the run goes on without it.
        """
        store, worker = self.store, start_worker(self.job.settings)
        joined = store.join(len(self.job.pooled), ordinal)
        if joined is None:
            return  # every pool of the run is done: nothing to join
        self.ordinal, finished = joined
        self.number, self.consumer = len(self.job.layout) + self.ordinal, store.consumer(self.ordinal)
        self.active = {store.pool(p): p for p in self.job.pooled if p not in finished}
        self.downstream = _inboxes_after_pools(worker.plan, self.job, store)  # by pool stream
        try:
            self.transport = RedisTransport(worker.plan, self.job, store, self.pending.append, True)
            slots = [(p, self.ordinal) for p in self.active.values()]
            # Observed copies hand their activity over at every commit (observe_seconds=0): what a committed
            # entry did is reported at once, so a worker killed later has reported it.
            self.host = host = ProcessHost(worker.plan, slots, self.transport, worker.hooks, self.number, None, 0.0)
            host.start()
            self.transport.flush()  # what preprocess wrote belongs to no entry: it goes now, unfenced
            if self.pending:
                store.send(self.pending)
                self.pending.clear()
            self._serve()
            store.send([store.output(store.driver, [(DONE, self.number, {})])])  # counts went with each commit
        except KeyboardInterrupt:  # Ctrl-C on a worker started by hand (local workers ignore it): leave the run
            self._leave()
            raise
        except BaseException as error:
            failed = (FAILED, self.number, portable_error(error, "redis"))
            try:  # the failure goes after the copies' last reports, or alone if those cannot be sent
                self._last_reports()
            finally:
                store.send([store.output(store.driver, [failed])])

    def _serve(self) -> None:
        control, pause = self.store.control(self.ordinal), 1
        while self.active:
            # Back-pressure: no new entry from a pool while an inbox it sends to is full; the driver's word still
            # comes, and a pool held back is looked at again within 50 ms.
            pools = self._open_pools()
            held_back = len(pools) < len(self.active)
            streams = {**dict.fromkeys(pools, b">"), control: b">"}  # a pool's items before the word it is done
            found = self.store.take(streams, pause if held_back else self.job.options.block_ms, self.consumer)
            if not found and pools:
                found = self._reclaim(pools)
            pause = min(pause * 2, 50) if held_back else 1
            for stream, entries in found:
                for entry, fields in entries:
                    if stream == control and b"retire" in fields:  # the driver has more workers than work
                        self._finish(list(self.active.values()), entry)
                    elif stream == control:  # the pool is done
                        self._finish([int(fields[b"finish"])], entry)
                    else:
                        self._process(stream, entry, fields)

    def _open_pools(self) -> list[bytes]:
        """The active pools whose pinned destinations' inboxes all hold fewer than ``inbox_entries``."""
        lengths = self.store.lengths({inbox for pool in self.active for inbox in self.downstream.get(pool, [])})
        full = {inbox for inbox, length in lengths.items() if length >= self.job.options.inbox_entries}
        return [pool for pool in self.active if not full.intersection(self.downstream.get(pool, []))]

    def _reclaim(self, pools: list[bytes]) -> Entries:
        """Take entries another worker has held for ``claim_ms`` without committing (it may be gone)."""
        found = []
        for stream in pools:
            entries = self.store.reclaim(stream, self.consumer, self.job.options.claim_ms)
            if entries:
                found.append((stream, entries))
        return found

    def _process(self, stream: bytes, entry: bytes, fields: dict[bytes, bytes]) -> None:
        """Run the entry's items and commit what they wrote.

        Once what they wrote has filled a batch (or waited ``flush_ms``), the items not run yet go back to the
        pool as a new entry, in the same commit, if they carry little payload: what is ready leaves now, and
        another worker may take the rest (a slow PE's outputs stream, as they do from a pinned instance).
        """
        partition, host = self.active[stream], self._host()
        before = host.counts()
        items = [message for message in self.store.read(stream, fields) if message[0] in ITEMS]
        for at, (kind, edge_index, _, item) in enumerate(items, 1):
            host.hand(kind, edge_index, self.ordinal, item)
            if self.pending and at < len(items) and self._hand_back(stream, items[at:], partition):
                break
        counted = {pe: count - before[pe] for pe, count in host.counts().items() if count != before[pe]}
        self.transport.to_driver.put((COUNTED, counted))
        self._commit(stream, entry, f"done:{partition}")

    def _hand_back(self, stream: bytes, rest: Batch, partition: int) -> bool:
        """Add ``rest`` to what the entry's commit appends, as a new entry of its pool, unless it is too heavy."""
        if sum(approximate_size(item) for _, _, _, item in rest) > self.job.options.batch_bytes // 16:
            return False  # sending its arrays again would cost more than waiting for them here
        self.pending.append(self.store.output(stream, rest, None, f"added:{partition}"))
        return True

    def _finish(self, partitions: list[int], entry: bytes) -> None:
        """Run postprocess on this worker's copies of ``partitions``, commit what they wrote, and leave their pools."""
        host = self._host()
        for instance in host.order:
            if host.plan.nodes[instance.pe_id].partition in partitions and not instance.finished:
                instance.finish()
        for partition in partitions:
            self.transport.to_driver.put((FINISHED, self.number, partition))
            del self.active[self.store.pool(partition)]
        self._commit(self.store.control(self.ordinal), entry, "")

    def _leave(self) -> None:
        """Put back the entries this worker holds, uncommitted, and tell the driver it has gone."""
        self.store.leave(self.ordinal)  # told nothing more, then nothing held
        for stream in self.active:
            self.store.requeue(stream, self.consumer)
        self._last_reports()
        gone = [(FINISHED, self.number, partition) for partition in self.active.values()]
        self.store.send([self.store.output(self.store.driver, [*gone, (DONE, self.number, {})])])

    def _commit(self, stream: bytes, entry: bytes, done: str) -> None:
        """Commit what the entry in hand wrote; then the observed copies report what it did, unless it was refused.

        Reports go after the commit, unfenced: a report in the commit would be lost with a refused one, and
        the activity it held with it.
        """
        self.transport.flush()
        if self.store.commit(stream, entry, self.consumer, done, self.pending):
            self._host().tick()
        else:  # another worker reclaimed the entry: it commits the outputs and reports the items; ours are dropped
            self._host().discard_activity()
        self.pending.clear()
        self.transport.reports.flush()

    def _last_reports(self) -> None:
        """Give the copies' observers their last word, without what the entry in hand did (it is not committed)."""
        if self.host is None:
            return
        self.host.discard_activity()
        self.host.last_messages()  # what else it returns was written for the entry in hand: dropped with it
        self.transport.reports.flush()

    def _host(self) -> ProcessHost:
        assert self.host is not None
        return self.host


def _inboxes_after_pools(plan: Plan, job: Job, store: RunStore) -> dict[bytes, list[bytes]]:
    """Per pool stream, the inboxes of the pinned workers its partition sends to."""
    workers: dict[int, set[int]] = {}
    for number, slots in enumerate(job.layout):
        for partition, _ in slots:
            workers.setdefault(partition, set()).add(number)
    inboxes: dict[bytes, list[bytes]] = {}
    for edge in plan.edges:
        source, target = plan.nodes[edge.source].partition, plan.nodes[edge.target].partition
        if source in job.pooled and target in workers:
            found = inboxes.setdefault(store.pool(source), [])
            found += [store.inbox(n) for n in sorted(workers[target]) if store.inbox(n) not in found]
    return inboxes
