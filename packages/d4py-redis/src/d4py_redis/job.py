"""What the driver gives every worker of a run (signed, in Redis), and the message kinds of this backend.

Partitions that any worker may run (:meth:`d4py.plan.Plan.poolable`: no
roots, only shuffled inputs, no state) are *pooled*: their items go to one
stream that every pool worker reads. The other slots are *pinned*: laid out
over pinned workers as the plan's layout would be, each read from its own
inbox.
"""

from __future__ import annotations

from dataclasses import dataclass

from d4py.hosting import FIRST_BACKEND_KIND, WorkerSettings
from d4py.plan import Plan, Slot, lay_out
from d4py_redis.backend import RedisOptions

__all__ = ["COUNTED", "FINISHED", "POOL_END", "Job", "plan_job"]

# (POOL_END, partition, edge, source): an upstream instance sent all it will to a pool;
# (FINISHED, worker, partition): a pool worker's copy of a pool has run postprocess and sent what it wrote;
# (COUNTED, counts): what one committed entry added to the counts of a pool's PEs.
POOL_END, FINISHED, COUNTED = range(FIRST_BACKEND_KIND, FIRST_BACKEND_KIND + 3)


@dataclass(frozen=True)
class Job:
    """A run as its workers see it."""

    settings: WorkerSettings
    options: RedisOptions
    layout: list[list[Slot]]  # the pinned workers' slots, by worker number
    pooled: tuple[int, ...]  # partitions shared by the pool workers
    pool_workers: int  # the most local pool workers
    fed_by_own_pools: frozenset[int]  # pinned workers whose inbox a pool they feed feeds (see plan_job)


def plan_job(plan: Plan, options: RedisOptions, settings: WorkerSettings) -> Job:
    """Pool what may be pooled; share the budget ``-n`` between the pool and the pinned workers.

    Pool workers may be as many as the pooled partitions have planned
    instances (or ``pool_workers``); under a budget, at least one process
    stays for the pinned slots and the pool takes at most the rest.
    """
    pooled = tuple(p for p in plan.flow_order() if plan.poolable(p))
    most = options.pool_workers or max([plan.nodes[plan.partitions[p][0]].instances for p in pooled] or [0])
    if plan.processes is not None and pooled:
        most = max(1, min(most, plan.processes - 1))
    pinned = [slot for slot in plan.slots() if slot[0] not in pooled]
    budget = None if plan.processes is None else max(1, plan.processes - most)
    layout = lay_out(pinned, budget)
    return Job(settings, options, layout, pooled, most, _fed_by_own_pools(plan, layout, set(pooled)))


def _fed_by_own_pools(plan: Plan, layout: list[list[Slot]], pooled: set[int]) -> frozenset[int]:
    """Pinned workers that feed a pool whose items come back to their own inbox (through pools only).

    The layout lets items flow from a worker to itself or a later one only, so such a worker is the one that
    could wait on itself: its senders wait for a pool, whose workers wait for room in its inbox.
    """
    after: dict[int, set[int]] = {}
    for edge in plan.edges:
        if not edge.local:
            after.setdefault(plan.nodes[edge.source].partition, set()).add(plan.nodes[edge.target].partition)
    found = set()
    for number, slots in enumerate(layout):
        own = {partition for partition, _ in slots}
        pools = {p for partition in own for p in after.get(partition, ()) if p in pooled}
        reached: set[int] = set()
        while pools:
            pool = pools.pop()
            reached.add(pool)
            pools |= {p for p in after.get(pool, ()) if p in pooled and p not in reached}
        if any(p in own for pool in reached for p in after.get(pool, ())):
            found.add(number)
    return frozenset(found)
