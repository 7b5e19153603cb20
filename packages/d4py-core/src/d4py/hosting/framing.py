"""A batch as bytes: one frame holding the pickle, then one raw buffer per out-of-band array.

Pickle protocol 5 leaves contiguous buffers (NumPy arrays, any buffer that
supports it) out of the pickle: they travel as they are, each after the
frame, and arrive in fresh writable buffers. The frame starts with the count
and sizes of those buffers, so a receiver knows what to read next. Every
transport (pipes, MPI messages) frames batches this way.
"""

from __future__ import annotations

import pickle
import struct

from d4py.hosting.messages import Batch

__all__ = ["buffer_sizes", "decode", "encode"]

_COUNT = struct.Struct("!I")


def encode(batch: Batch) -> tuple[bytes, list[memoryview]]:
    """The frame of ``batch`` and the raw buffers to send after it, in order."""
    buffers: list[pickle.PickleBuffer] = []
    payload = pickle.dumps(batch, protocol=5, buffer_callback=buffers.append)
    raws = [buffer.raw() for buffer in buffers]
    header = _COUNT.pack(len(raws)) + struct.pack(f"!{len(raws)}Q", *(raw.nbytes for raw in raws))
    return header + payload, raws


def buffer_sizes(frame: bytes | bytearray | memoryview) -> tuple[int, ...]:
    """The sizes of the buffers that follow ``frame``."""
    (count,) = _COUNT.unpack_from(frame)
    return struct.unpack_from(f"!{count}Q", frame, _COUNT.size)


def decode(frame: bytes | bytearray | memoryview, buffers: list[bytearray]) -> Batch:
    """The batch of ``frame``, given the buffers that followed it."""
    start = _COUNT.size + 8 * len(buffers)
    batch: Batch = pickle.loads(memoryview(frame)[start:], buffers=buffers)
    return batch
