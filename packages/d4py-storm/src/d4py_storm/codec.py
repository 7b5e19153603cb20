"""Batches as Storm tuple values: JSON when every item is plain data, else a pickle; always signed.

Storm carries tuples between workers over its own network links, so what a
component receives may come from anyone who can reach a worker. Every batch
travels as two strings, ``[payload, mac]``, the MAC being HMAC-SHA256 under
the run's own key; nothing is decoded, let alone unpickled, before its MAC
checks out. A batch whose items are all plain data (None, bools, integers,
finite floats, strings, lists, tuples, and dicts with string keys) travels as
JSON, readable in Storm's logs and UI; any other batch as core's pickle-5
frame, in base64. Tuples and lists stay apart: a tuple is written as
``{"t": [...]}`` and a dict as ``{"d": {...}}``, so JSON objects are always
these tags.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import secrets
from typing import Any

from d4py import RunFailed
from d4py.hosting import Batch, buffer_sizes, decode, encode

__all__ = ["FIELDS", "TamperedBatch", "new_key", "open_sealed", "seal"]

FIELDS = ["batch", "mac"]  # the output fields of every stream a component declares
_JSON, _PICKLE = "J", "P"


class TamperedBatch(RunFailed):
    """A tuple that is not a batch of this run: malformed, or signed with another key."""


class _NotPlain(Exception):
    pass


def new_key() -> bytes:
    """A fresh key for one run's batches."""
    return secrets.token_bytes(32)


def seal(batch: Batch, key: bytes) -> list[str]:
    """The tuple values that carry ``batch``: its payload and the payload's MAC."""
    try:
        payload = _JSON + json.dumps(_plain(batch), separators=(",", ":"), ensure_ascii=False)
    except _NotPlain:
        frame, raws = encode(batch)
        payload = _PICKLE + base64.b64encode(b"".join([frame, *raws])).decode("ascii")
    return [payload, _mac(key, payload)]


def open_sealed(values: Any, key: bytes) -> Batch:
    """The batch a tuple carries, once its MAC under ``key`` checks out; TamperedBatch otherwise."""
    if not (isinstance(values, list) and len(values) == 2 and all(isinstance(v, str) for v in values)):
        raise TamperedBatch("received a tuple that is not a d4py batch (expected the two strings [batch, mac])")
    payload, mac = values
    if not hmac.compare_digest(_mac(key, payload), mac):
        raise TamperedBatch("received a batch not signed with this run's key; it was not decoded")
    if payload.startswith(_JSON):
        batch: Batch = _unplain(json.loads(payload[1:]))
        return batch
    data = base64.b64decode(payload[1:])
    sizes = buffer_sizes(data)
    end = len(data) - sum(sizes)
    buffers = []
    for size in sizes:
        buffers.append(bytearray(data[end : end + size]))
        end += size
    return decode(data[: len(data) - sum(sizes)], buffers)


def _mac(key: bytes, payload: str) -> str:
    return hmac.new(key, payload.encode("utf-8"), hashlib.sha256).hexdigest()


def _plain(value: Any) -> Any:
    """``value`` as JSON data with tuples and dicts tagged; _NotPlain for anything JSON would change."""
    kind = type(value)  # exact types: a subclass (numpy.float64, an IntEnum) must come back as itself
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is float:
        if math.isfinite(value):  # NaN and infinities are not JSON
            return value
        raise _NotPlain
    if kind is list:
        return [_plain(v) for v in value]
    if kind is tuple:
        return {"t": [_plain(v) for v in value]}
    if kind is dict and all(type(k) is str for k in value):
        return {"d": {k: _plain(v) for k, v in value.items()}}
    raise _NotPlain


def _unplain(value: Any) -> Any:
    if isinstance(value, list):
        return [_unplain(v) for v in value]
    if isinstance(value, dict):
        if "t" in value:
            return tuple(_unplain(v) for v in value["t"])
        return {k: _unplain(v) for k, v in value["d"].items()}
    return value
