"""Arrays leave a process as they were when written, and one written again crosses to a destination once.

A seismologist's pair-forming PE writes ``(a, b, spectrum_a, spectrum_b)`` for
every pair: with 200 stations each 256 KiB spectrum is in 199 items, and
without this about 10 GB moves between processes instead of 51 MB.

Per destination, a sender's :class:`SentBuffers` does two things:

- **freeze** (when an item is queued): each NumPy array and bytearray in the
  item (or one level inside a tuple or list) is replaced by a copy, so a PE
  that fills the same buffer again before the batch leaves does not change
  what it wrote. An array written again with the same bytes is replaced by the
  same copy as before.
- **slot** (when a batch is framed): a copy the destination has kept is named
  by its key instead of sent; a large one sent for the first time is sent
  with a key for the destination to keep.

The destination's :class:`ReceivedBuffers` keeps those buffers and hands
the kept one to every item that names it (writable, shared by those items as
they would share the array object on ``simple``). Both ends are bounded: past ``keep_bytes`` the sender forgets the
least recently written arrays and tells the destination, in its next frame,
to forget them too.
"""

from __future__ import annotations

import secrets
import sys
import weakref
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from d4py.hosting.pages import Inbound, untouched, want_arena

__all__ = ["INLINE", "KEEP", "REPEAT", "ReceivedBuffers", "SentBuffers"]

INLINE, KEEP, REPEAT = 0, 1, 2  # a buffer sent as is, sent and kept, or named as kept before
SMALLEST = 64 << 10  # smaller arrays cost less to send again than to compare and keep


@dataclass
class _Written:
    owner: weakref.ref[Any]  # the PE's array
    snapshot: bytearray  # its bytes when last written
    frozen: Any  # the array sent in its place: a view of ``snapshot``
    repeated: bool = False  # written again unchanged: worth the destination's keeping
    key: int | None = None  # once sent with a key for the destination to keep
    untouched: bool = False  # received into an arena and not written since, when frozen (d4py.hosting.pages)


@dataclass
class SentBuffers:
    """What one sending process has written to one destination; used by one thread.

    Arrays written once wait on probation (an eighth of ``keep_bytes``, the
    oldest dropped first), so a stream of arrays that never repeat costs
    little memory at either end. One written again unchanged is kept: the
    second time it travels with a key, then it is named. Kept arrays are
    dropped least recently written first past ``keep_bytes``, and the
    destination told. With ``keep_bytes`` 0 arrays are still frozen, never kept.
    """

    keep_bytes: int
    token: int = field(default_factory=lambda: secrets.randbits(63))
    forgotten: list[int] = field(default_factory=list)  # keys the destination may drop, said in the next frame
    named_bytes: int = 0  # of the item frozen last, the bytes the destination keeps: named, not sent
    queued: float = 0.0  # when the first message of the batch being framed was queued (seconds since the epoch)
    _probation: OrderedDict[int, _Written] = field(default_factory=OrderedDict)  # by id() of the PE's array
    _kept: OrderedDict[int, _Written] = field(default_factory=OrderedDict)  # the same, once written again
    _keys: dict[int, _Written] = field(default_factory=dict)  # by id() of the frozen copy
    _held: dict[bool, int] = field(default_factory=lambda: {False: 0, True: 0})  # bytes, by ``repeated``
    _next_key: int = 0

    def freeze(self, item: Any) -> Any:
        """``item`` with its arrays and bytearrays (one level into tuples and lists) as they are now.

        Sets :attr:`named_bytes`, so that a batch is cut on the bytes that travel.
        """
        self.named_bytes = 0
        numpy = sys.modules.get("numpy")
        mutable = (bytearray, numpy.ndarray) if numpy is not None else bytearray
        kind = type(item)
        if kind is tuple or kind is list:
            for part in item:
                if isinstance(part, mutable):
                    parts = [self._frozen(p) if isinstance(p, mutable) else p for p in item]
                    return tuple(parts) if kind is tuple else parts
            return item
        return self._frozen(item) if isinstance(item, mutable) else item

    def slot(self, raw: memoryview) -> tuple[int, int]:
        """How a framed buffer travels: (INLINE, 0), (KEEP, key) with its bytes, or (REPEAT, key) without."""
        written = self._keys.get(id(raw.obj))
        if written is None or written.frozen is not raw.obj or not written.repeated:
            return INLINE, 0
        if written.key is not None:
            return REPEAT, written.key
        written.key, self._next_key = self._next_key, self._next_key + 1
        return KEEP, written.key

    def _frozen(self, value: Any) -> Any:
        if isinstance(value, bytearray):
            return bytearray(value)
        numpy = sys.modules["numpy"]
        if type(value) is not numpy.ndarray or not value.flags.c_contiguous:
            return value.copy()  # a subclass's extra state or a strided view: copied, never kept
        raw = memoryview(value).cast("B")
        identity = id(value)
        written = self._kept.get(identity) or self._probation.get(identity)
        if written is not None:
            want_arena()  # this process writes large arrays again: receiving them into an arena spares compares
        if written is not None and written.owner() is value and _same(written, value, raw):
            if written.repeated:
                self._kept.move_to_end(identity)
                if written.key is not None:
                    self.named_bytes += raw.nbytes
            else:
                self._promote(identity, written)
            return written.frozen
        snapshot = bytearray(raw)
        frozen = numpy.frombuffer(snapshot, dtype=value.dtype).reshape(value.shape)
        if self.keep_bytes // 8 >= value.nbytes >= SMALLEST:
            self._remember(value, snapshot, frozen)
        return frozen

    def _remember(self, value: Any, snapshot: bytearray, frozen: Any) -> None:
        identity = id(value)
        if identity in self._kept or identity in self._probation:
            self._forget(identity)
        written = _Written(weakref.ref(value, lambda _: self._dropped(identity)), snapshot, frozen)
        written.untouched = untouched(value)
        self._probation[identity] = self._keys[id(frozen)] = written
        self._held[False] += len(snapshot)
        while self._held[False] > self.keep_bytes // 8:
            self._forget(next(iter(self._probation)))

    def _promote(self, identity: int, written: _Written) -> None:
        del self._probation[identity]
        self._held[False] -= len(written.snapshot)
        written.repeated = True
        self._kept[identity] = written
        self._held[True] += len(written.snapshot)
        while self._held[True] > self.keep_bytes:
            self._forget(next(iter(self._kept)))

    def _dropped(self, identity: int) -> None:
        """The PE's array is gone: its id() may be reused by another object."""
        written = self._kept.get(identity) or self._probation.get(identity)
        if written is not None and written.owner() is None:
            self._forget(identity)

    def _forget(self, identity: int) -> None:
        written = self._kept.pop(identity, None) or self._probation.pop(identity)
        del self._keys[id(written.frozen)]
        self._held[written.repeated] -= len(written.snapshot)
        if written.key is not None:
            self.forgotten.append(written.key)


def _same(written: _Written, value: Any, raw: memoryview) -> bool:
    """Whether ``value`` is still what was frozen: its shape, type and bytes.

    The bytes are compared without a copy, unless the kernel says nobody has written them since they were
    received (then they are what was frozen, as they were then).
    """
    frozen = written.frozen
    if frozen.shape != value.shape or frozen.dtype != value.dtype:
        return False
    return (written.untouched and untouched(value)) or written.snapshot == raw


@dataclass
class ReceivedBuffers:
    """What a receiving process keeps for its senders, by sender token and key.

    Items that name one kept buffer share it, as items that carry one array
    share that object on ``simple``: a PE that changes such an array in place
    changes it for the items after, there as here.
    """

    kept: dict[tuple[int, int], Inbound] = field(default_factory=dict)
    queued: float = 0.0  # of the batch decoded last, when its first message was queued (0: not said)

    def keep(self, sender: int, key: int, buffer: Inbound) -> Inbound:
        """Keep ``buffer`` as the sender's ``key``, and return it for the item."""
        self.kept[sender, key] = buffer
        return buffer

    def repeat(self, sender: int, key: int) -> Inbound:
        """The buffer the sender named."""
        return self.kept[sender, key]

    def forget(self, sender: int, keys: list[int]) -> None:
        for key in keys:
            self.kept.pop((sender, key), None)
