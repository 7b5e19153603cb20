"""Batches of messages bound for another process, flushed on count, size or age.

Backends that move items between processes never send one message per item:
they queue messages in an :class:`Outbox` per destination and hand whole
batches to a send function of their own (a pipe, an MPI send).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from d4py.backend import BatchOptions
from d4py.hosting.messages import Batch, Message
from d4py.hosting.repeats import SentBuffers

__all__ = ["Outbox", "approximate_size"]

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
    """Collects messages for one destination and sends them in batches.

    With ``sent`` (what this process has sent to the destination), the arrays
    in an item are frozen as it is queued, and ``send`` frames batches with
    ``encode(batch, sent)`` so that an array written again crosses once
    (:meth:`framing`).
    """

    def __init__(self, send: Callable[[Batch], None], options: BatchOptions, sent: SentBuffers | None = None) -> None:
        self.send = send
        self.sent = sent
        self.max_items, self.max_bytes, self.max_age = options.batch_items, options.batch_bytes, options.flush_ms / 1000
        self.batch: Batch = []
        self.size = 0
        self.started = 0.0

    @classmethod
    def framing(cls, send: Callable[[Batch, SentBuffers], None], options: BatchOptions, keep: bool = True) -> Outbox:
        """An outbox for a destination reached with ``send(batch, sent)``; ``keep=False`` for one whose readers
        take turns (a pool), which cannot keep what was sent before."""
        sent = SentBuffers(options.keep_bytes if keep else 0)
        return cls(lambda batch: send(batch, sent), options, sent)

    def put(self, message: Message, size: int = 0) -> None:
        """Queue one message; send the batch when it is full or old enough."""
        batch = self.batch
        if not batch:
            self.started = time.monotonic()
            if self.sent is not None:
                self.sent.queued = time.time()  # the frame says it, for the receiver's latency
        batch.append(message)
        self.size += size
        if (
            len(batch) >= self.max_items
            or self.size >= self.max_bytes
            or time.monotonic() - self.started > self.max_age
        ):
            self.flush()

    def put_item(self, kind: int, where: Any, which: Any, item: Any, item_id: int | None = None) -> int:
        """Queue ``(kind, where, which, item)``: an item a PE wrote, its arrays frozen as they are now.

        With ``item_id`` (a traced run), the message carries ``(item, item_id)`` in the item's place.
        Returns its payload bytes, estimated as :func:`approximate_size` does, in the same
        pass that finds the buffers to freeze (one call per item: this is the
        hot path of every item that leaves a process).
        """
        item_kind = type(item)
        size, buffers = 0, False
        if item_kind is str or item_kind is bytes:
            size = len(item)
        elif item_kind is tuple or item_kind is list:
            if len(item) < 16:
                for part in item:
                    part_kind = type(part)
                    if part_kind is str or part_kind is bytes:
                        size += len(part)
                    elif part_kind not in _NO_PAYLOAD:
                        size += len(part) if part_kind is bytearray else _buffer_size(part)
                        buffers = True
        elif item_kind not in _NO_PAYLOAD:
            size = len(item) if item_kind is bytearray else _buffer_size(item)
            buffers = True
        if buffers and self.sent is not None:
            item = self.sent.freeze(item)
            size -= self.sent.named_bytes
        self.put((kind, where, which, item if item_id is None else (item, item_id)), size)
        return size

    def flush(self) -> None:
        """Send whatever is queued."""
        if self.batch:
            batch, self.batch, self.size = self.batch, [], 0
            self.send(batch)
