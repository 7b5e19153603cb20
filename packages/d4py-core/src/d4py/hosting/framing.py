"""A batch as bytes: one frame holding the pickle, then one raw buffer per out-of-band array.

Pickle protocol 5 leaves contiguous buffers (NumPy arrays, any buffer that
supports it) out of the pickle: they travel as they are, each after the
frame, and arrive in fresh writable buffers. The frame starts with the sender's
token and when the batch's first message was queued, then for each buffer how
it travels and its size, then the keys the receiver may forget, so a receiver
knows what to read next. With a
:class:`~d4py.hosting.repeats.SentBuffers` per destination, a large buffer sent
before is named instead of sent again (:mod:`d4py.hosting.repeats`). Every
transport (pipes, MPI messages) frames batches this way.
"""

from __future__ import annotations

import pickle
import struct
from collections.abc import Sequence

from d4py.hosting.messages import Batch
from d4py.hosting.pages import Inbound
from d4py.hosting.repeats import INLINE, KEEP, REPEAT, ReceivedBuffers, SentBuffers

__all__ = ["buffer_sizes", "buffers_kept", "decode", "encode"]

FRAME_VERSION = 2  # 2: the head says when the batch was begun
_MAGIC = b"D4" + bytes([FRAME_VERSION])
_HEAD = struct.Struct("!3sQdII")  # magic and version, sender token, when the batch was begun, buffers, forgotten keys
_SLOT = struct.Struct("!BQQ")  # how the buffer travels, its key, its size
_KEY = struct.Struct("!Q")


def encode(batch: Batch, sent: SentBuffers | None = None) -> tuple[bytes, list[memoryview]]:
    """The frame of ``batch`` and the raw buffers to send after it, in order."""
    buffers: list[pickle.PickleBuffer] = []
    payload = pickle.dumps(batch, protocol=5, buffer_callback=buffers.append)
    slots, raws = [], []
    for buffer in buffers:
        raw = buffer.raw()
        kind, key = sent.slot(raw) if sent is not None else (INLINE, 0)
        slots.append(_SLOT.pack(kind, key, raw.nbytes))
        if kind != REPEAT:
            raws.append(raw)
    forgotten = sent.forgotten if sent is not None else []
    token, queued = (sent.token, sent.queued) if sent is not None else (0, 0.0)
    head = _HEAD.pack(_MAGIC, token, queued, len(slots), len(forgotten))
    frame = b"".join([head, *slots, *(_KEY.pack(key) for key in forgotten), payload])
    forgotten.clear()
    return frame, raws


def _read_slots(frame: bytes | bytearray | memoryview) -> tuple[int, list[tuple[int, int, int]], list[int], int]:
    magic, token, _, count, forgets = _HEAD.unpack_from(frame)
    if magic != _MAGIC:
        raise ValueError(f"not a d4py batch frame of version {FRAME_VERSION}: written by another d4py release?")
    at = _HEAD.size
    slots = [_SLOT.unpack_from(frame, at + n * _SLOT.size) for n in range(count)]
    at += count * _SLOT.size
    keys = [_KEY.unpack_from(frame, at + n * _KEY.size)[0] for n in range(forgets)]
    return token, slots, keys, at + forgets * _KEY.size


def buffer_sizes(frame: bytes | bytearray | memoryview) -> tuple[int, ...]:
    """The sizes of the buffers that follow ``frame``."""
    _, slots, _, _ = _read_slots(frame)
    return tuple(size for kind, _, size in slots if kind != REPEAT)


def buffers_kept(frame: bytes | bytearray | memoryview) -> list[bool]:
    """For each buffer that follows ``frame``, whether its receiver keeps it (it was written again)."""
    _, slots, _, _ = _read_slots(frame)
    return [kind == KEEP for kind, _, _ in slots if kind != REPEAT]


def decode(
    frame: bytes | bytearray | memoryview, buffers: Sequence[Inbound], received: ReceivedBuffers | None = None
) -> Batch:
    """The batch of ``frame``, given the buffers that followed it (and what its sender sent before).

    ``received.queued`` is then when the batch's first message was queued.
    """
    token, slots, forgotten, start = _read_slots(frame)
    following = iter(buffers)
    items: list[Inbound] = []
    for kind, key, _ in slots:
        if kind == INLINE:
            items.append(next(following))
        elif received is None:
            raise ValueError("a frame that repeats or keeps buffers needs the receiver's ReceivedBuffers")
        elif kind == REPEAT:
            items.append(received.repeat(token, key))
        else:
            items.append(received.keep(token, key, next(following)))
    if received is not None:
        received.queued = _HEAD.unpack_from(frame)[2]
        if forgotten:
            received.forget(token, forgotten)
    batch: Batch = pickle.loads(memoryview(frame)[start:], buffers=items)
    return batch
