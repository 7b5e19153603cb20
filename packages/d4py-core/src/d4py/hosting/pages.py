"""Large buffers received into memory that the kernel can say nobody has written since (Linux).

A PE that writes a received array again (the pair-forming PE of a
cross-correlation writes each spectrum in hundreds of pairs) must send it as
it is now, so its process compares it with what it sent before
(:mod:`d4py.hosting.repeats`): for arrays larger than the caches, most of
what such an item costs. A buffer received through the :class:`Arena` needs
no compare while untouched. The arena is a memory file (``memfd``) filled
through a shared mapping; each buffer handed out is its bytes mapped
privately, so a PE that writes to one gets private copies of the pages it
writes, and ``/proc/self/pagemap`` tells the file's pages from those
(:func:`untouched`). Buffers stay writable, as received buffers always were.

A mapping costs more than a bytearray (some 70 µs more for 512 KiB on a
2-core VM, and a file descriptor while the buffer lives), so a process
receives into the arena only once it has written a large array a second
time (:func:`want_arena`): a stream of arrays passed on once never pays. A buffer's pages return to the arena when the
buffer is gone. Where the kernel cannot vouch (not Linux, no pagemap, a
self-check that fails) or the arena is full, buffers are bytearrays, and
always compared.
"""

from __future__ import annotations

import mmap
import os
import sys
import threading
import weakref
from collections import deque
from collections.abc import Callable
from typing import Any

__all__ = ["Arena", "Inbound", "Mapped", "mappings_allowed", "receive_buffer", "untouched", "want_arena"]

Inbound = bytearray | mmap.mmap  # an out-of-band buffer as received
SMALLEST = 64 << 10  # smaller buffers are cheaper to compare than to map
CHUNK_BYTES = 64 << 20  # the arena grows by memory files of this size (or of one larger buffer)
ARENA_BYTES = 4 << 30  # at most so much in memory files per process; past it, buffers are bytearrays
_PAGE = mmap.PAGESIZE
# A pagemap entry is 64 bits; its top byte holds present (0x80), swapped (0x40) and file-or-shared (0x20). A
# page is as the memory file has it when that byte shows it not mapped in yet, or mapped from the file.
_TOP = 7 if sys.byteorder == "little" else 0
_AS_FILED = bytes(b for b in range(256) if b & 0xE0 in (0x00, 0x20, 0xA0))


class Mapped(mmap.mmap):
    """One received buffer: pages of a memory file nobody writes while it is mapped, mapped privately.

    An arena's, or a sender's region's (:mod:`d4py.hosting.regions`).
    """

    address = 0  # where it is mapped, once asked


class _Chunk:
    """One memory file of an arena, and which of its pages are free."""

    def __init__(self, size: int) -> None:
        self.fd = os.memfd_create("d4py-arena", os.MFD_CLOEXEC)
        try:
            os.ftruncate(self.fd, size)
            self.shared = mmap.mmap(self.fd, size, flags=mmap.MAP_SHARED)
        except BaseException:
            os.close(self.fd)
            raise
        self.size, self.top, self.live = size, 0, 0
        self.free: dict[int, list[int]] = {}  # page count -> offsets of free runs of that many pages
        self.retired = False  # a forked child may map its buffers: their pages are never reused

    def take(self, pages: int) -> int | None:
        runs = self.free.get(pages)
        if runs:
            return runs.pop()
        if self.top + pages * _PAGE > self.size:
            return None
        offset, self.top = self.top, self.top + pages * _PAGE
        return offset

    def release_free(self) -> None:
        """Give the memory of the free runs back to the system (they stay free, and are faulted in again)."""
        for pages, offsets in self.free.items():
            for offset in offsets:
                self.shared.madvise(mmap.MADV_REMOVE, offset, pages * _PAGE)

    def close(self) -> None:
        self.shared.close()
        os.close(self.fd)


class Arena:
    """Memory files that received buffers are read into and mapped from, in pages reused once free.

    Free pages of the newest file are kept for the next buffers (filling pages
    already there is a copy; new ones cost the kernel a fault each); those of
    older files go back to the system, and a file is closed once no buffer
    maps it. At most ``buffers`` live at once (each mapping holds a file
    descriptor): a quarter of the process's open-files limit by default. When
    the process forks, the pages of its buffers are never reused (the child
    may still read them). Buffers given back are settled on the next
    receive: a finalizer only queues them, since it may run, by garbage
    collection, while a receive holds the arena's lock.
    """

    def __init__(self, limit: int = ARENA_BYTES, buffers: int | None = None) -> None:
        self.limit, self.buffers = limit, mappings_allowed() if buffers is None else buffers
        self._chunks: list[_Chunk] = []
        self._lock = threading.Lock()
        self._returned: deque[tuple[_Chunk, int, int]] = deque()  # given back, not yet settled
        self._live = 0
        self._pid = os.getpid()  # a forked child must never fill, release or close its parent's files

    def receive(self, size: int, fill: Callable[[memoryview], Any]) -> Inbound:
        """A buffer of ``size`` bytes that ``fill`` writes (a view of exactly that many bytes)."""
        pages = -(-size // _PAGE)
        place = self._take(pages)
        if place is None:
            return _filled(size, fill)
        chunk, offset = place
        copy = None
        try:
            with memoryview(chunk.shared) as whole, whole[offset : offset + size] as view:
                fill(view)
                try:
                    buffer = Mapped(chunk.fd, size, flags=mmap.MAP_PRIVATE, offset=offset)
                except OSError:  # out of mappings (vm.max_map_count): a copy, compared like any other
                    copy = bytearray(view)
        except BaseException:
            self._give_back((chunk, offset, pages))
            raise
        if copy is not None:
            self._give_back((chunk, offset, pages))
            return copy
        weakref.finalize(buffer, self._give_back, (chunk, offset, pages)).atexit = False
        return buffer

    def retire(self) -> None:
        """Never reuse the pages of the buffers mapped now (this process has forked: its child may read them)."""
        with self._lock:
            for chunk in self._chunks:
                chunk.retired = True
                chunk.release_free()
                chunk.free.clear()

    def close(self) -> None:
        """Close every memory file (buffers mapped from them keep their pages)."""
        with self._lock:
            for chunk in self._chunks:
                chunk.close()
            self._chunks.clear()

    def _give_back(self, place: tuple[_Chunk, int, int]) -> None:
        if os.getpid() == self._pid:
            self._returned.append(place)

    def _take(self, pages: int) -> tuple[_Chunk, int] | None:
        with self._lock:
            self._settle()
            if self._live >= self.buffers:
                return None
            for chunk in reversed(self._chunks):
                offset = None if chunk.retired else chunk.take(pages)
                if offset is not None:
                    return self._lend(chunk, offset)
            size = max(CHUNK_BYTES, pages * _PAGE)
            if sum(chunk.size for chunk in self._chunks) + size > self.limit:
                return None
            try:
                chunk = _Chunk(size)
            except OSError:  # out of memory files or file descriptors: this buffer is a bytearray
                return None
            if self._chunks:
                self._chunks[-1].release_free()  # no longer the newest
            self._chunks.append(chunk)
            offset = chunk.take(pages)
            assert offset is not None
            return self._lend(chunk, offset)

    def _lend(self, chunk: _Chunk, offset: int) -> tuple[_Chunk, int]:
        chunk.live += 1
        self._live += 1
        return chunk, offset

    def _settle(self) -> None:
        while self._returned:
            chunk, offset, pages = self._returned.popleft()
            chunk.live -= 1
            self._live -= 1
            newest = chunk is self._chunks[-1]
            if chunk.live == 0 and (chunk.retired or not newest or chunk.size > CHUNK_BYTES):
                if chunk in self._chunks:  # nothing maps it, and no buffer is likely to fit it: its memory goes back
                    self._chunks.remove(chunk)
                    chunk.close()
            elif not chunk.retired:
                if not newest:
                    chunk.shared.madvise(mmap.MADV_REMOVE, offset, pages * _PAGE)
                chunk.free.setdefault(pages, []).append(offset)


def mappings_allowed() -> int:
    """How many buffers an arena, or a region's receiver, may map at once.

    A quarter of the open-files limit: each mapping holds a descriptor.
    """
    import resource

    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return 16384 if soft == resource.RLIM_INFINITY else max(0, min(16384, soft // 4))


def _filled(size: int, fill: Callable[[memoryview], Any]) -> bytearray:
    buffer = bytearray(size)
    with memoryview(buffer) as view:
        fill(view)
    return buffer


_arena: Arena | None = None
_wanted = False
_usable: bool | None = None  # whether the kernel vouches here (None: not asked yet)
_pagemap: int | None = None  # the file descriptor of /proc/self/pagemap
_starting = threading.Lock()


def want_arena() -> None:
    """Receive large buffers into the arena from now on: this process writes large arrays again."""
    global _wanted
    _wanted = True


def receive_buffer(size: int, fill: Callable[[memoryview], Any]) -> Inbound:
    """A received buffer of ``size`` bytes that ``fill`` writes: the arena's if wanted and possible."""
    global _arena
    if size < SMALLEST or not _wanted or not _kernel_vouches():
        return _filled(size, fill)
    if _arena is None:
        with _starting:
            if _arena is None:
                _arena = Arena()
    return _arena.receive(size, fill)


def untouched(array: Any) -> bool:
    """Whether ``array``'s bytes lie in a :class:`Mapped` buffer (an arena's or a region's) nobody has written since.

    False for every other array (strided views included), and whenever the kernel cannot say.
    """
    mapped = _mapped_base(array)
    if mapped is None or array.nbytes == 0 or not array.flags.contiguous or not _kernel_vouches():
        return False
    if not mapped.address:
        numpy = sys.modules["numpy"]
        mapped.address = numpy.frombuffer(mapped, numpy.uint8).__array_interface__["data"][0]
    start = array.__array_interface__["data"][0]
    if start < mapped.address or start + array.nbytes > mapped.address + len(mapped):
        return False
    return _unwritten(start, array.nbytes)


def _mapped_base(array: Any) -> Mapped | None:
    """The :class:`Mapped` buffer ``array`` is a view of, found along its bases (arrays, then a memoryview)."""
    base = array
    for _ in range(8):
        base = base.obj if isinstance(base, memoryview) else getattr(base, "base", None)
        if base is None or isinstance(base, Mapped):
            return base
    return None


def _unwritten(start: int, length: int) -> bool:
    """Whether every page of [start, start + length) is still the memory file's (or not mapped in yet)."""
    first, last = start // _PAGE, (start + length - 1) // _PAGE
    try:
        entries = os.pread(_pagemap_fd(), (last - first + 1) * 8, first * 8)
    except OSError:
        return False
    # A page written in a private mapping is the process's own (anonymous), in memory or swapped out.
    return len(entries) == (last - first + 1) * 8 and not entries[_TOP::8].translate(None, _AS_FILED)


def _pagemap_fd() -> int:
    global _pagemap
    if _pagemap is None:  # reset in a forked child: /proc/self/pagemap is the opening process's
        _pagemap = os.open("/proc/self/pagemap", os.O_RDONLY | os.O_CLOEXEC)
    return _pagemap


def _kernel_vouches() -> bool:
    """Whether this kernel tells a page written in a private mapping of a memory file from one only read.

    Asked once per process.
    """
    global _usable
    if _usable is None:
        _usable = _vouches()
    return _usable


def _vouches() -> bool:
    if not hasattr(os, "memfd_create") or "numpy" not in sys.modules:
        return False
    numpy = sys.modules["numpy"]
    try:
        fd = os.memfd_create("d4py-check", os.MFD_CLOEXEC)
        try:
            os.pwrite(fd, bytes(2 * _PAGE), 0)
            buffer = Mapped(fd, 2 * _PAGE, flags=mmap.MAP_PRIVATE)
        finally:
            os.close(fd)
    except OSError:
        return False
    pages = numpy.frombuffer(buffer, numpy.uint8)
    pages[0] = 1  # the first page written, the second only read
    start = pages.__array_interface__["data"][0]
    return int(pages[_PAGE]) == 0 and not _unwritten(start, _PAGE) and _unwritten(start + _PAGE, _PAGE)


def _retire_at_fork() -> None:
    """The child may read this process's buffers through their pages: none of those is reused."""
    if _arena is not None:
        _arena.retire()


def _forget_in_child() -> None:
    """A forked child shares its parent's memory files: it must never fill them, so it makes its own."""
    global _arena, _pagemap, _starting
    _arena, _pagemap, _starting = None, None, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(before=_retire_at_fork, after_in_parent=_retire_at_fork, after_in_child=_forget_in_child)
