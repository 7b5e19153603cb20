"""Entries as signed bytes: nothing read from Redis is unpickled unless this run's key signed it.

An entry holds one blob (a frame and its raw buffers, each length-prefixed)
and an HMAC-SHA256 over the name of the stream it was written to and the
blob. The key is made by the driver for each run and reaches local workers
through their environment; it is never written to Redis, so whoever can write
to the server but does not hold the key cannot make a worker unpickle
anything. Binding the stream name stops an entry being replayed into another
stream.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from collections.abc import Sequence

from d4py import RunFailed

__all__ = ["SealError", "open_blob", "seal", "split", "unseal"]

_COUNT = struct.Struct("!I")
_SIZE = struct.Struct("!Q")


class SealError(RunFailed):
    """An entry in Redis that this run's key did not sign."""


def seal(key: bytes, stream: bytes, parts: Sequence[bytes | memoryview]) -> tuple[bytes, bytes]:
    """The blob holding ``parts`` and its signature, for an entry of ``stream``."""
    blob = b"".join([_COUNT.pack(len(parts)), *(_SIZE.pack(len(part)) for part in parts), *parts])
    return blob, hmac.new(key, stream + b"\0" + blob, hashlib.sha256).digest()


def unseal(key: bytes, stream: bytes, blob: bytes, signature: bytes) -> bytes:
    """``blob`` if ``signature`` is this run's for it in ``stream``; otherwise raise :class:`SealError`."""
    expected = hmac.new(key, stream + b"\0" + blob, hashlib.sha256).digest()
    if not hmac.compare_digest(expected, signature):
        raise SealError(
            f"an entry in Redis stream {stream.decode(errors='replace')!r} is not signed with this run's key: "
            "something other than this run's workers wrote it, and it was not unpickled"
        )
    return blob


def split(blob: bytes) -> list[memoryview]:
    """The parts of a blob made by :func:`seal`."""
    (count,) = _COUNT.unpack_from(blob)
    view, at = memoryview(blob), _COUNT.size + count * _SIZE.size
    parts = []
    for number in range(count):
        (size,) = _SIZE.unpack_from(blob, _COUNT.size + number * _SIZE.size)
        parts.append(view[at : at + size])
        at += size
    return parts


def open_blob(key: bytes, stream: bytes, fields: dict[bytes, bytes]) -> list[memoryview]:
    """The parts of an entry's blob, once its signature is checked."""
    try:
        blob, signature = fields[b"d"], fields[b"s"]
    except KeyError:
        raise SealError(
            f"an entry in Redis stream {stream.decode(errors='replace')!r} is not one of this run's: "
            "it has no signed data, and was not read"
        ) from None
    return split(unseal(key, stream, blob, signature))
