"""Large buffers between forked processes of one machine through shared memory, not through a pipe (Linux).

Before it forks its workers, a driver makes :class:`Regions`: one memory
file (``memfd``) and one return pipe per worker, inherited by every process
of the run. A worker sends a buffer of :data:`SMALLEST` bytes or more by
copying it into its own region (:meth:`Regions.place`) and telling the
receiver where it lies; the receiver maps those pages privately
(:meth:`Regions.receive`): it reads them in place, and a write there copies
the pages written for it alone. Once the receiver's buffer is gone, it says
so through the sender's return pipe, and the sender reuses the pages. So a
large array is copied once, by its sender, instead of twice through the
kernel, and items stay values: the sender copies the buffer as it is when
sent, and nothing writes a slot while a receiver maps it. A sender lends
each receiver at most ``lend_limit`` bytes of buffers the receiver will not
keep; past that they take the pipe, whose bound then holds the sender back.

A buffer received here is one :func:`~d4py.hosting.pages.untouched` can vouch
for, as an arena's. A full region, a process that owns none (the driver, a
pool's later workers, a child a PE forked) or a receiver out of mappings
falls back to a copy: the pipe, or a read from the memory file.
"""

from __future__ import annotations

import mmap
import os
import struct
import threading
import weakref
from collections import deque
from collections.abc import Hashable, Sequence

from d4py.hosting.pages import Inbound, Mapped, mappings_allowed

__all__ = ["INLINE", "REGION_BYTES", "SMALLEST", "Regions"]

SMALLEST = 64 << 10  # smaller buffers cost less through a pipe than a mapping
REGION_BYTES = 4 << 30  # each process's memory file: its pages cost memory only once written
KEEP_FREE_BYTES = 64 << 20  # freed pages kept for reuse past this go back to the system
_PAGE = mmap.PAGESIZE
_OFFSET = struct.Struct("=q")  # a slot's offset, in manifests and on return pipes
_RETURN_CHUNK = 4096 // _OFFSET.size * _OFFSET.size  # offsets per write, at most PIPE_BUF: each write is whole
INLINE = -1  # in a manifest: this buffer follows through the pipe


class _Sender:
    """The owning process's view of its region: which pages are lent out, to whom, and which are free."""

    def __init__(self, fd: int, returns: int, size: int, lend_limit: int) -> None:
        self.view = mmap.mmap(fd, size, flags=mmap.MAP_SHARED)
        self.returns, self.size, self.top, self.lend_limit = returns, size, 0, lend_limit
        self.lent: dict[int, tuple[int, Hashable, int]] = {}  # offset -> pages, receiver, bytes counted against it
        self.lent_to: dict[Hashable, int] = {}  # receiver -> bytes it may still hold of buffers it will not keep
        self.free: dict[int, list[int]] = {}  # pages -> offsets of free runs of that many
        self.released: set[int] = set()  # offsets of free runs whose memory went back to the system
        self.free_bytes = 0  # in free runs whose memory is kept
        self.pid = os.getpid()

    def place(self, raw: memoryview, receiver: Hashable, kept: bool) -> int:
        """Copy ``raw`` into free pages lent to ``receiver`` and return their offset, or :data:`INLINE`.

        Buffers the receiver will not keep count against :attr:`lend_limit`
        per receiver: past it they go through the pipe, whose bound then
        holds the sender back. Kept ones are bounded by what receivers keep
        (:mod:`d4py.hosting.repeats`).
        """
        self._collect()
        counted = 0 if kept else raw.nbytes
        if counted and self.lent_to.get(receiver, 0) + counted > self.lend_limit:
            return INLINE
        pages = -(-raw.nbytes // _PAGE)
        offset = self._take(pages)
        if offset == INLINE:
            return INLINE
        self.view[offset : offset + raw.nbytes] = raw
        self.lent[offset] = (pages, receiver, counted)
        self.lent_to[receiver] = self.lent_to.get(receiver, 0) + counted
        return offset

    def _take(self, pages: int) -> int:
        runs = self.free.get(pages)
        if runs:
            return self._reuse(runs.pop(), pages)
        if self.top + pages * _PAGE <= self.size:
            offset, self.top = self.top, self.top + pages * _PAGE
            return offset
        larger = [size for size, runs in self.free.items() if size > pages and runs]
        if not larger:
            return INLINE
        size = min(larger)
        offset = self._reuse(self.free[size].pop(), size)
        self._free(offset + pages * _PAGE, size - pages)  # the rest of the run stays free
        return offset

    def _reuse(self, offset: int, pages: int) -> int:
        if offset in self.released:
            self.released.discard(offset)
        else:
            self.free_bytes -= pages * _PAGE
        return offset

    def _collect(self) -> None:
        """Take back the pages receivers have said they no longer map."""
        while True:
            try:
                data = os.read(self.returns, 65536)
            except BlockingIOError:
                break
            for (offset,) in _OFFSET.iter_unpack(data):
                lent = self.lent.pop(offset, None)
                if lent is not None:
                    pages, receiver, counted = lent
                    self.lent_to[receiver] -= counted
                    self._free(offset, pages)
            if len(data) < 65536:
                break
        if not self.lent and self.top:  # nothing lent: start again from the bottom, whatever the sizes were
            if self.top > KEEP_FREE_BYTES:
                self.view.madvise(mmap.MADV_REMOVE, KEEP_FREE_BYTES, self.top - KEEP_FREE_BYTES)
            self.top, self.free_bytes = 0, 0
            self.free.clear()
            self.released.clear()

    def _free(self, offset: int, pages: int) -> None:
        if self.free_bytes + pages * _PAGE > KEEP_FREE_BYTES:
            self.view.madvise(mmap.MADV_REMOVE, offset, pages * _PAGE)
            self.released.add(offset)
        else:
            self.free_bytes += pages * _PAGE
        self.free.setdefault(pages, []).append(offset)


class _Receiving:
    """One process's mapped buffers and the returns it owes their senders."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.returned: deque[tuple[int, int, int]] = deque()  # (region, offset, epoch), queued by finalizers
        self.owed: dict[int, bytearray] = {}  # region -> offsets not yet written to its return pipe
        self.live = 0
        self.epoch = 0  # grows at each fork: buffers mapped before one are never returned (a child may read them)
        self.lock = threading.Lock()


class Regions:
    """The memory files and return pipes of a run's first ``count`` processes, made before they are forked.

    A process that owns region ``number`` calls :meth:`attach` first; any
    process of the run may :meth:`receive`.
    """

    def __init__(self, count: int, lend_limit: int, size: int = REGION_BYTES) -> None:
        self.size, self.lend_limit = min(size, _largest_file()), lend_limit
        self.files: list[int] = []
        self.returns: list[tuple[int, int]] = []  # (read end, write end), both non-blocking
        try:
            for _ in range(count):
                self.files.append(os.memfd_create("d4py-region", os.MFD_CLOEXEC))
                os.ftruncate(self.files[-1], size)
                self.returns.append(os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC))
        except BaseException:
            self.close()
            raise
        self.buffers = mappings_allowed()
        self._sender: _Sender | None = None
        self._number = INLINE  # the region this process sends from
        self._receiving = _Receiving()
        _everywhere.add(self)

    @staticmethod
    def possible() -> bool:
        """Whether this platform has memory files to share (Linux)."""
        return hasattr(os, "memfd_create") and hasattr(os, "pipe2") and hasattr(mmap, "MADV_REMOVE")

    def attach(self, number: int) -> bool:
        """Send from region ``number``: this process owns it (call once, in that process).

        False if its region cannot be mapped here (an address-space limit): then it sends through the pipe.
        """
        self._state()
        try:
            self._sender = _Sender(self.files[number], self.returns[number][0], self.size, self.lend_limit)
        except OSError:
            return False
        self._number = number
        return True

    def place(
        self, raws: Sequence[memoryview], receiver: Hashable, kept: Sequence[bool]
    ) -> tuple[bytes, list[memoryview]]:
        """The manifest for the large buffers among ``raws``, and the buffers still to send through the pipe.

        The manifest names this process's region, then for each buffer of
        :data:`SMALLEST` bytes or more its offset there, or :data:`INLINE`:
        the receiver reads those, and only those, from the pipe, in order.
        ``receiver`` names the destination, ``kept`` says which buffers it will keep.
        """
        self.settle()
        sender = self._sender if self._sender is not None and self._sender.pid == os.getpid() else None
        offsets, inline = [], []
        for raw, keeps in zip(raws, kept, strict=True):
            if raw.nbytes < SMALLEST:
                inline.append(raw)
                continue
            offset = sender.place(raw, receiver, keeps) if sender is not None else INLINE
            offsets.append(offset)
            if offset == INLINE:
                inline.append(raw)
        owner = self._number if sender is not None else INLINE
        return b"".join(_OFFSET.pack(value) for value in (owner, *offsets)), inline

    @staticmethod
    def manifest(data: bytes) -> tuple[int, list[int]]:
        """The region and the offsets a manifest names."""
        owner, *offsets = (value for (value,) in _OFFSET.iter_unpack(data))
        return owner, offsets

    def receive(self, owner: int, offset: int, size: int) -> Inbound:
        """The ``size`` bytes at ``offset`` of region ``owner``, mapped privately (or copied, out of mappings)."""
        state = self._state()
        self.settle()
        fd = self.files[owner]
        buffer: Inbound | None = None
        if state.live < self.buffers:
            try:
                buffer = Mapped(fd, size, flags=mmap.MAP_PRIVATE, offset=offset)
            except OSError:  # out of mappings or descriptors: a copy
                buffer = None
        with state.lock:
            state.live += 1
        if buffer is None:
            copy = bytearray(size)
            with memoryview(copy) as view:
                done = 0
                while done < size:  # one read returns at most about 2 GiB
                    read = os.preadv(fd, [view[done:]], offset + done)
                    if read == 0:
                        raise EOFError(f"region {owner} ends before offset {offset + done}")
                    done += read
            state.returned.append((owner, offset, state.epoch))
            return copy
        weakref.finalize(buffer, state.returned.append, (owner, offset, state.epoch)).atexit = False
        return buffer

    def settle(self) -> None:
        """Tell senders which of their pages this process no longer maps (as far as their pipes take it)."""
        state = self._state()
        if not (state.returned or state.owed) or not state.lock.acquire(blocking=False):
            return
        try:
            while state.returned:
                owner, offset, epoch = state.returned.popleft()
                state.live -= 1
                if epoch == state.epoch:
                    state.owed.setdefault(owner, bytearray()).extend(_OFFSET.pack(offset))
            for owner, owed in list(state.owed.items()):
                while owed:
                    try:
                        written = os.write(self.returns[owner][1], owed[:_RETURN_CHUNK])
                    except BlockingIOError:  # the sender has not read its returns yet: later
                        break
                    del owed[:written]
                if not owed:
                    del state.owed[owner]
        finally:
            state.lock.release()

    def close(self) -> None:
        """Close this process's descriptors (buffers mapped keep their pages)."""
        for fd in self.files:
            os.close(fd)
        for read_end, write_end in self.returns:
            os.close(read_end)
            os.close(write_end)
        self.files, self.returns = [], []

    def _state(self) -> _Receiving:
        if self._receiving.pid != os.getpid():  # a forked child: its parent's mappings are not its to return
            with _starting:  # its sending and its read-ahead thread may both ask first
                if self._receiving.pid != os.getpid():
                    self._receiving = _Receiving()
        return self._receiving

    def _forking(self) -> None:
        """The child may read what this process maps now: those pages are never returned."""
        self._receiving.epoch += 1


def _largest_file() -> int:
    """The largest file this process may make (``ulimit -f``)."""
    import resource

    soft, _ = resource.getrlimit(resource.RLIMIT_FSIZE)
    return REGION_BYTES if soft == resource.RLIM_INFINITY else soft // _PAGE * _PAGE


_everywhere: weakref.WeakSet[Regions] = weakref.WeakSet()
_starting = threading.Lock()


def _before_fork() -> None:
    for regions in list(_everywhere):
        regions._forking()


def _in_child() -> None:
    global _starting
    _starting = threading.Lock()  # another thread may have held it as the process forked


if hasattr(os, "register_at_fork"):
    os.register_at_fork(before=_before_fork, after_in_child=_in_child)
