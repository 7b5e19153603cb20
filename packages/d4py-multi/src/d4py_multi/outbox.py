"""Dynamic mode's bookkeeping messages, and the send that keeps a pool's count of pending items.

Every other message kind, and batching itself, are core's (:mod:`d4py.batching`).
"""

from __future__ import annotations

from collections.abc import Callable
from multiprocessing.sharedctypes import Synchronized

from d4py.batching import FIRST_BACKEND_KIND, ITEM, Batch

# (POOL_END, partition, edge, source): an upstream instance ended; (POOL_IDLE, partition): nothing pending;
# (FINISH,): driver to pool worker, the pool is done; (FINISHED, worker): its postprocess output is sent.
POOL_END, POOL_IDLE, FINISH, FINISHED = range(FIRST_BACKEND_KIND, FIRST_BACKEND_KIND + 4)


def counting(send: Callable[[Batch], None], depth: Synchronized[int]) -> Callable[[Batch], None]:
    """Wrap ``send`` so that a pool's pending count grows by the items of each batch first.

    Counted before sending, so the pool workers' decrements never take it below zero.
    """

    def send_counted(batch: Batch) -> None:
        items = sum(1 for message in batch if message[0] == ITEM)
        with depth.get_lock():
            depth.value += items
        send(batch)

    return send_counted
