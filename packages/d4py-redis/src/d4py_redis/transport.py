"""Core's host transport over Redis streams: pinned instances by inbox, pooled partitions by their shared stream.

Every batch goes to ``channel``: a pinned worker appends it at once, a pool
worker keeps it for the commit of the entry it is processing. A pool copy's
observer reports go straight to the driver instead (:attr:`RedisTransport.reports`):
they are made once an entry is committed, and hold only what committed entries did.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from d4py.hosting import REPORT, Batch, HostTransport, Outbox, SentBuffers, queued, queued_traced
from d4py.plan import Edge, Plan
from d4py.runtime import InstanceInfo, Send, TracedSend
from d4py_redis.job import POOL_END, Job
from d4py_redis.store import Output, RunStore

__all__ = ["RedisTransport", "share_out"]


class RedisTransport(HostTransport):
    """Delivers to pooled partitions through their stream, to pinned instances through their worker's inbox.

    ``pool_copy``: this process hosts copies of pooled partitions, whose end
    of stream the driver sends on behalf of the whole pool.
    """

    def __init__(
        self, plan: Plan, job: Job, store: RunStore, channel: Callable[[Output], None], pool_copy: bool
    ) -> None:
        def outbox(stream: bytes, counter: str = "", keep: bool = False, shares: int = 1) -> Outbox:
            def send(batch: Batch, sent: SentBuffers) -> None:
                # A batch cut short (by age or bytes, or the sender's end) goes as one entry per pool worker, so
                # that each takes a share at once; a full one means more follow, and entries cost round trips.
                parts = shares if len(batch) < job.options.batch_items else 1
                for part in share_out(batch, parts):
                    channel(store.output(stream, part, sent, counter))

            return Outbox.framing(send, job.options, keep=keep)

        # An array written again crosses once to a pinned worker's inbox: one reader, in order. Not from a pool
        # copy, whose commit may be dropped, nor to a pool, whose readers take turns.
        inboxes = {number: outbox(store.inbox(number), keep=not pool_copy) for number in range(len(job.layout))}
        super().__init__(plan, inboxes.__getitem__, outbox(store.driver), job.layout)
        self.pools = {p: outbox(store.pool(p), f"added:{p}", shares=job.pool_workers) for p in job.pooled}
        self.outboxes[:0] = self.pools.values()
        self.pool_copy = pool_copy

        def unfenced(batch: Batch, sent: SentBuffers) -> None:
            store.send([store.output(store.driver, batch, sent)])

        # A pool copy's reports go unfenced, when its worker flushes them after a commit.
        self.reports = Outbox.framing(unfenced, job.options, keep=False) if pool_copy else self.to_driver

    def deliver(self, edge: Edge, target: int) -> Send:
        pool = None if edge.local else self.pools.get(self.plan.nodes[edge.target].partition)
        if pool is None:
            return super().deliver(edge, target)
        return queued(pool, edge.index, 0)  # any pool worker may take it: the target index does not matter

    def deliver_traced(self, edge: Edge, target: int) -> TracedSend:
        pool = None if edge.local else self.pools.get(self.plan.nodes[edge.target].partition)
        if pool is None:
            return super().deliver_traced(edge, target)
        return queued_traced(pool, edge.index, 0)

    def report(self, info: InstanceInfo, final: bool, reports: list[Any]) -> None:
        self.reports.put((REPORT, info.pe_id, info.index, info.instances, final, reports))

    def end(self, edge: Edge, target: int, source: int) -> None:
        partition = self.plan.nodes[edge.target].partition
        if edge.local or (partition not in self.pools and not self.pool_copy):
            super().end(edge, target, source)
        elif not self.pool_copy and target == 0:  # once per edge and source: the pool is one consumer
            self.pools[partition].flush()  # the items reach the stream before the driver counts this end
            self.to_driver.put((POOL_END, partition, edge.index, source))


def share_out(batch: Batch, parts: int) -> list[Batch]:
    """``batch`` cut into at most ``parts`` runs of consecutive messages, as even as can be."""
    parts = max(1, min(parts, len(batch)))
    return [batch[len(batch) * n // parts : len(batch) * (n + 1) // parts] for n in range(parts)]
