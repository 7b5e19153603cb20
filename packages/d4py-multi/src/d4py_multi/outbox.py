"""Batches of messages bound for one mailbox, flushed on count, size or age."""

from __future__ import annotations

import time
from typing import Any

from d4py_multi.mailbox import Mailbox

# Message kinds inside a batch.
ITEM, END, OUTPUT, DONE, FAILED = range(5)


def approximate_size(item: Any) -> int:
    """A cheap estimate of an item's pickled size: large buffers count, small objects do not."""
    size = getattr(item, "nbytes", None)
    if isinstance(size, int):
        return size
    if isinstance(item, (bytes, bytearray, str)):
        return len(item)
    if isinstance(item, (tuple, list)) and len(item) < 16:
        return sum(approximate_size(part) for part in item)
    return 0


class Outbox:
    """Collects messages for one mailbox and sends them in batches."""

    def __init__(self, mailbox: Mailbox, max_items: int, max_bytes: int, max_age: float) -> None:
        self.mailbox = mailbox
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
            self.mailbox.send(batch)
