"""Dynamic mode, driver side: pools grow and shrink with their queues, and end by end-of-stream.

A pooled partition's items wait in one shared queue, and any of its pool
workers may take them. The driver starts one pool worker per pool, and
another whenever the queue holds more than a batch and the pool is below its
size limit. When the queue has stayed empty for ``IDLE_SECONDS``, the driver
retires the pool's newest worker (never the last one): the worker runs postprocess,
flushes what it wrote, says so and leaves. The pool ends when every upstream
instance has ended (their ends are forwarded to the driver) and no item is
pending: then each pool worker finishes the same way, and once every worker,
retired or not, has flushed, the driver sends the pool's end-of-stream
downstream on behalf of the partition's planned instances.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.sharedctypes import Synchronized

from d4py.hosting import END, FIRST_BACKEND_KIND, ITEMS, Batch, SentBuffers
from d4py.plan import Plan
from d4py_multi.mailbox import Mailbox

__all__ = ["FINISH", "FINISHED", "IDLE_SECONDS", "POOL_END", "POOL_IDLE", "Pool", "PoolCoordinator", "counting"]

IDLE_SECONDS = 0.1  # how long a queue stays empty before its pool gives up a worker

# (POOL_END, partition, edge, source): an upstream instance ended; (POOL_IDLE, partition): nothing pending;
# (FINISH,): driver to pool worker, the pool is done; (FINISHED, worker): its postprocess output is sent.
POOL_END, POOL_IDLE, FINISH, FINISHED = range(FIRST_BACKEND_KIND, FIRST_BACKEND_KIND + 4)


@dataclass(frozen=True)
class Pool:
    """The shared queue of a pooled partition and its count of pending items."""

    queue: Mailbox
    depth: Synchronized[int]


def counting(
    send: Callable[[Batch, SentBuffers], None], depth: Synchronized[int]
) -> Callable[[Batch, SentBuffers], None]:
    """Wrap ``send`` so that a pool's pending count grows by the items of each batch first.

    Counted before sending, so the pool workers' decrements never take it below zero.
    """

    def send_counted(batch: Batch, sent: SentBuffers) -> None:
        items = sum(1 for message in batch if message[0] in ITEMS)
        with depth.get_lock():
            depth.value += items
        send(batch, sent)

    return send_counted


class PoolCoordinator:
    """The driver's view of every pool: which ends have come, who works for it, when it is done."""

    def __init__(
        self,
        plan: Plan,
        pools: dict[int, Pool],
        mailboxes: list[Mailbox],
        worker_of: dict[tuple[int, int], int],
        start_worker: Callable[[int], tuple[int, Mailbox]],
        max_workers: dict[int, int],
        grow_at: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.plan, self.pools, self.mailboxes, self.worker_of = plan, pools, mailboxes, worker_of
        self.start_worker, self.max_workers, self.grow_at, self.clock = start_worker, max_workers, grow_at, clock
        self.expected: dict[int, set[tuple[int, int]]] = {p: plan.entry_ends(p) for p in pools}
        self.ended: dict[int, set[tuple[int, int]]] = {p: set() for p in pools}
        self.workers: dict[int, dict[int, Mailbox]] = {p: {} for p in pools}
        self.retiring: dict[int, set[int]] = {p: set() for p in pools}  # told to finish, not yet flushed
        self.idle_since: dict[int, float] = {}  # pools whose queue was empty at the last look, and since when
        self.finishing: dict[int, set[int]] = {}

    def start(self) -> None:
        for partition in self.pools:
            self._add_worker(partition)

    def _add_worker(self, partition: int) -> None:
        number, control = self.start_worker(partition)
        self.workers[partition][number] = control

    @property
    def resizing(self) -> bool:
        """Whether some pool may still grow or shrink, so the driver should look at the queues now and then."""
        return any(
            p not in self.finishing and (len(w) < self.max_workers[p] or len(w) > 1) for p, w in self.workers.items()
        )

    def resize(self) -> None:
        """Grow each pool whose queue holds more than a batch; shrink each whose queue stayed empty."""
        for partition, pool in self.pools.items():
            if partition in self.finishing:
                continue
            depth, size, now = pool.depth.value, len(self.workers[partition]), self.clock()
            if depth > 0:
                self.idle_since.pop(partition, None)
                if depth > self.grow_at and size < self.max_workers[partition]:
                    self._add_worker(partition)
            elif now - self.idle_since.setdefault(partition, now) >= IDLE_SECONDS and size > 1:
                self._retire_worker(partition)
                self.idle_since[partition] = now  # the next one waits as long again

    def _retire_worker(self, partition: int) -> None:
        number = max(self.workers[partition])
        self.workers[partition].pop(number).send([(FINISH,)])
        self.retiring[partition].add(number)

    def upstream_ended(self, partition: int, edge_index: int, source: int) -> None:
        self.ended[partition].add((edge_index, source))
        self.check(partition)

    def check(self, partition: int) -> None:
        """Tell the pool to finish once all its inputs have ended and nothing is pending."""
        done = self.ended[partition] >= self.expected[partition] and self.pools[partition].depth.value == 0
        if done and partition not in self.finishing:
            self.finishing[partition] = set(self.workers[partition]) | self.retiring[partition]
            for control in self.workers[partition].values():
                control.send([(FINISH,)])

    def worker_finished(self, number: int) -> None:
        for retiring in self.retiring.values():
            retiring.discard(number)
        for partition, waiting in self.finishing.items():
            if number in waiting:
                waiting.discard(number)
                if not waiting:
                    self._end_downstream(partition)
                return

    def _end_downstream(self, partition: int) -> None:
        """Send the end-of-stream marks the partition's planned instances would have sent."""
        batches: dict[Mailbox, Batch] = {}
        for pe_id in self.plan.partitions[partition]:
            for source in range(self.plan.nodes[pe_id].instances):
                for edge, target in self.plan.sent_ends(pe_id, source):
                    target_partition = self.plan.nodes[edge.target].partition
                    if target_partition == partition:
                        continue
                    if target_partition in self.pools:
                        if target == 0:  # once per edge and source: the pool is one consumer
                            batches.setdefault(self.pools[target_partition].queue, []).append(
                                (END, edge.index, source, None)
                            )
                    else:
                        box = self.mailboxes[self.worker_of[(target_partition, target)]]
                        batches.setdefault(box, []).append((END, edge.index, target, source))
        for box, batch in batches.items():
            box.send(batch)
