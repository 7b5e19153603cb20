"""Batches of messages bound for one mailbox, flushed on count, size or age."""

from __future__ import annotations

import time
from multiprocessing.sharedctypes import Synchronized
from typing import Any

from d4py_multi.mailbox import Mailbox

# Message kinds inside a batch. The last four are dynamic mode's pool bookkeeping.
ITEM, END, OUTPUT, DONE, FAILED, POOL_END, POOL_IDLE, FINISH, FINISHED = range(9)


_NO_PAYLOAD = frozenset({int, float, bool, complex, type(None)})
_SIZED = frozenset({str, bytes, bytearray})


def approximate_size(item: Any) -> int:
    """A cheap estimate of an item's payload: strings and buffers count, scalars do not.

    Looks one level into tuples and lists, where arrays usually travel with a key.
    """
    kind = type(item)
    if kind in _NO_PAYLOAD:
        return 0
    if kind in _SIZED:
        return len(item)
    if kind is tuple or kind is list:
        total = 0
        if len(item) < 16:
            for part in item:
                part_kind = type(part)
                if part_kind not in _NO_PAYLOAD:
                    total += len(part) if part_kind in _SIZED else _buffer_size(part)
        return total
    return _buffer_size(item)


def _buffer_size(item: Any) -> int:
    size = getattr(item, "nbytes", 0)
    return size if isinstance(size, int) else 0


class Outbox:
    """Collects messages for one mailbox and sends them in batches."""

    def __init__(
        self, mailbox: Mailbox, max_items: int, max_bytes: int, max_age: float, depth: Synchronized[int] | None = None
    ) -> None:
        self.mailbox = mailbox
        self.depth = depth  # a pool's count of items sent and not yet processed
        self.max_items, self.max_bytes, self.max_age = max_items, max_bytes, max_age
        self.batch: list[tuple[Any, ...]] = []
        self.size = 0
        self.started = 0.0

    def put(self, message: tuple[Any, ...], size: int = 0) -> None:
        """Queue one message; send the batch when it is full or old enough."""
        batch = self.batch
        if not batch:
            self.started = time.monotonic()
        batch.append(message)
        self.size += size
        if (
            len(batch) >= self.max_items
            or self.size >= self.max_bytes
            or time.monotonic() - self.started > self.max_age
        ):
            self.flush()

    def flush(self) -> None:
        """Send whatever is queued."""
        if self.batch:
            batch, self.batch, self.size = self.batch, [], 0
            if self.depth is not None:
                items = sum(1 for message in batch if message[0] == ITEM)
                with self.depth.get_lock():  # counted before sending, so it never drops below zero
                    self.depth.value += items
            self.mailbox.send(batch)
