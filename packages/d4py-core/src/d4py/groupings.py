"""Groupings: how the items on one connection are spread over the receiving instances.

A grouping is declared on the receiving input port. Keys route by a stable
digest (BLAKE2b of a canonical encoding), never Python's salted ``hash()``, so
a key lands on the same instance in every process and on every backend.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from operator import itemgetter
from typing import Any

from d4py._exceptions import GraphError

__all__ = [
    "ALL",
    "GLOBAL",
    "SHUFFLE",
    "Grouping",
    "all_to_one",
    "group_by",
    "one_to_all",
    "parse_grouping",
    "shuffle",
    "stable_digest",
]

KeyFunction = Callable[[Any], Any]


@dataclass(frozen=True)
class Grouping:
    """A parsed grouping: ``kind`` is shuffle, group_by, all or global."""

    kind: str
    fields: tuple[int | str, ...] = ()
    key_function: KeyFunction | None = None

    @cached_property
    def key(self) -> KeyFunction:
        """The function that gives an item's routing key (group_by only): one field, a tuple of several."""
        return self.key_function if self.key_function is not None else itemgetter(*self.fields)

    def describe(self) -> str:
        if self.kind != "group_by":
            return self.kind
        if self.key_function is not None:
            return f"group_by({getattr(self.key_function, '__name__', 'key')})"
        return f"group_by{list(self.fields)}"


SHUFFLE = Grouping("shuffle")
ALL = Grouping("all")
GLOBAL = Grouping("global")
shuffle = SHUFFLE
one_to_all = ALL
all_to_one = GLOBAL


def group_by(*fields: int | str | KeyFunction) -> Grouping:
    """Group by item fields (tuple indices or mapping keys) or by one key function."""
    if len(fields) == 1 and callable(fields[0]):
        return Grouping("group_by", key_function=fields[0])
    if not fields or not all(isinstance(f, (int, str)) for f in fields):
        raise GraphError("group_by takes item indices or mapping keys, or a single key function")
    return Grouping("group_by", fields=tuple(fields))  # type: ignore[arg-type]


_NAMED = {
    "shuffle": SHUFFLE,
    "all": ALL,
    "one_to_all": ALL,
    "global": GLOBAL,
    "all_to_one": GLOBAL,
}


def parse_grouping(spec: Any) -> Grouping:
    """Turn any accepted grouping spelling into a :class:`Grouping`.

    Accepted: None (shuffle), a Grouping, one of ``'shuffle'``, ``'all'``,
    ``'one_to_all'``, ``'global'``, ``'all_to_one'``, a list or tuple of field
    indices or keys (dispel4py's group_by), or a key function.
    """
    if spec is None:
        return SHUFFLE
    if isinstance(spec, Grouping):
        return spec
    if isinstance(spec, str):
        try:
            return _NAMED[spec]
        except KeyError:
            valid = ", ".join(repr(name) for name in _NAMED)
            raise GraphError(f"unknown grouping {spec!r}; use one of {valid} or a list of fields") from None
    if isinstance(spec, (list, tuple)) and spec:
        return group_by(*spec)
    if callable(spec):
        return group_by(spec)
    raise GraphError(f"cannot use {spec!r} as a grouping")


def stable_digest(key: Any) -> int:
    """Return a 64-bit digest of ``key`` that is the same in every interpreter."""
    return int.from_bytes(hashlib.blake2b(_encode(key), digest_size=8).digest(), "big")


def _encode(key: Any) -> bytes:
    # Tagged, length-prefixed so that ("ab",) and ("a", "b") differ.
    if isinstance(key, str):
        data = key.encode("utf-8", "surrogatepass")
        return b"s" + struct.pack(">I", len(data)) + data
    if isinstance(key, int):  # bool too: True == 1, so they group together
        digits = str(int(key)).encode()
        return b"i" + struct.pack(">I", len(digits)) + digits
    if isinstance(key, float):
        if key.is_integer():
            return _encode(int(key))  # 3.0 groups with 3, as == says
        return b"f" + struct.pack(">d", key)
    if isinstance(key, bytes):
        return b"y" + struct.pack(">I", len(key)) + key
    if key is None:
        return b"n"
    if isinstance(key, (tuple, list)):
        return b"t" + struct.pack(">I", len(key)) + b"".join(_encode(part) for part in key)
    item = getattr(key, "item", None)  # NumPy scalars
    if callable(item):
        return _encode(item())
    text = repr(key)
    if " at 0x" in text:
        raise TypeError(
            f"cannot route by key {text}: its repr holds a memory address; "
            "group by a str, number, bytes or tuple of them instead"
        )
    return b"r" + text.encode()
