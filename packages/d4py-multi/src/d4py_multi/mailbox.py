"""A mailbox: many writers, one reader, over one OS pipe.

Writers take a lock for each batch, so batches never interleave. A full
pipe blocks its writer: that is the backpressure that keeps memory flat. A
batch is core's frame (:mod:`d4py.hosting.framing`) in one pipe message,
then each out-of-band buffer (NumPy arrays) in a pipe message of its own,
read into a writable buffer of its own (:func:`~d4py.hosting.pages.receive_buffer`)
without being copied into the pickle. With the run's
:class:`~d4py.hosting.regions.Regions` (workers forked by the driver), a
batch with buffers of 64 KiB or more sends a manifest after its frame, and
those buffers that fit in the sender's region cross there instead of
through the pipe: the receiver maps them. A sender lends one receiver at most
twice ``read_ahead_bytes`` of buffers it will not keep (:func:`lend_limit`);
the rest take the pipe, so a full pipe still holds the sender back.

A worker reads its mailbox through a :class:`ReadAhead`: a thread that keeps
the pipe drained up to a bound, so that a writer seldom waits for a reader
busy with a long computation, while memory stays bounded.
"""

from __future__ import annotations

import threading
from collections import deque
from multiprocessing.connection import Connection
from multiprocessing.context import BaseContext
from typing import Any

from d4py.hosting import (
    ReceivedBuffers,
    SentBuffers,
    buffer_sizes,
    buffers_kept,
    decode,
    encode,
    receive_buffer,
)
from d4py.hosting.pages import Inbound
from d4py.hosting.regions import INLINE, SMALLEST, Regions
from d4py_multi.backend import MultiOptions

_Message = tuple[bytes, list[Inbound]]  # a frame and its out-of-band buffers


def lend_limit(options: MultiOptions) -> int:
    """What a sender may lend one receiver of arrays it will not keep: what the pipe let it run ahead before.

    The read-ahead holds up to ``read_ahead_bytes`` of batches and then one
    more, and a batch at most waits in the pipe: about twice the limit.
    """
    return 2 * options.read_ahead_bytes


class Mailbox:
    """The inbound channel of one process, or with ``shared=True`` of a pool of readers."""

    def __init__(self, context: BaseContext, shared: bool = False, regions: Regions | None = None) -> None:
        self.reader, self.writer = context.Pipe(duplex=False)
        self.regions = regions
        self.lock = context.Lock()
        self.read_lock = context.Lock() if shared else None
        self._received = ReceivedBuffers()  # what senders asked the reading process to keep

    @property
    def shared(self) -> bool:
        """Whether readers take turns (a pool): then none of them can keep what a sender sent before."""
        return self.read_lock is not None

    def send(self, batch: list[Any], sent: SentBuffers | None = None) -> None:
        """Send one batch (framed with what this process ``sent`` here before); blocks while the reader is behind."""
        frame, raws = encode(batch, sent)
        manifest = None
        if self.regions is not None and any(raw.nbytes >= SMALLEST for raw in raws):
            manifest, raws = self.regions.place(raws, self, buffers_kept(frame))
        with self.lock:
            self.writer.send_bytes(frame)
            if manifest is not None:
                self.writer.send_bytes(manifest)
            for raw in raws:
                self.writer.send_bytes(raw)

    def receive(self) -> list[Any]:
        """Receive one batch, waiting for it."""
        return self.decode(self.read())

    def decode(self, message: _Message) -> list[Any]:
        """The batch of a message read off this mailbox, in the reading process."""
        return decode(*message, self._received)

    @property
    def queued(self) -> float:
        """When the first message of the batch decoded last was queued by its sender (seconds since the epoch)."""
        return self._received.queued

    def read(self) -> _Message:
        """Read one message off the pipe, waiting for it, without unpickling it."""
        self.settle()
        frame = self.reader.recv_bytes()
        sizes = buffer_sizes(frame)
        regions = self.regions
        if regions is None or all(size < SMALLEST for size in sizes):
            return frame, [self._receive_buffer(size) for size in sizes]
        owner, offsets = regions.manifest(self.reader.recv_bytes())
        placed = iter(offsets)
        buffers = []
        for size in sizes:
            offset = next(placed) if size >= SMALLEST else INLINE
            buffers.append(self._receive_buffer(size) if offset == INLINE else regions.receive(owner, offset, size))
        return frame, buffers

    def take(self) -> list[Any] | None:
        """Receive one batch if one is still waiting once this reader's turn comes; else None.

        For shared mailboxes: readers woken together take turns, and those who
        find the pipe empty get None.
        """
        assert self.read_lock is not None, "take() is for shared mailboxes"
        with self.read_lock:
            return self.receive() if self.reader.poll() else None

    def _receive_buffer(self, size: int) -> Inbound:
        if size == 0:
            self.reader.recv_bytes()
            return bytearray()
        return receive_buffer(size, self.reader.recv_bytes_into)

    def settle(self) -> None:
        """Give senders back the pages of received arrays this process has let go (before it waits)."""
        if self.regions is not None:
            self.regions.settle()

    def ready(self) -> bool:
        """Whether a message is waiting."""
        return self.reader.poll()

    @property
    def connection(self) -> Connection:
        """The reading end, for ``multiprocessing.connection.wait``."""
        return self.reader

    def close(self) -> None:
        self.reader.close()
        self.writer.close()


class ReadAhead:
    """Reads a mailbox on a thread of its own, holding up to ``limit`` bytes of batches for the worker.

    Past the limit the thread stops reading, the pipe fills and the writers
    block: backpressure, with a few batches of slack instead of one pipe's
    worth. The thread only moves bytes (the read releases the GIL); batches are
    unpickled by the worker as it takes them.
    """

    def __init__(self, mailbox: Mailbox, limit: int) -> None:
        self.mailbox, self.limit = mailbox, limit
        self.messages: deque[_Message | BaseException] = deque()
        self.held = 0  # bytes of the messages waiting in ``messages``
        self.changed = threading.Condition()
        threading.Thread(target=self._read, name="d4py-read-ahead", daemon=True).start()

    def receive(self) -> list[Any]:
        """The next batch, waiting for it; re-raises what stopped the reading thread."""
        if not self.messages:
            self.mailbox.settle()  # the batches before are done with: their senders may reuse their pages
        with self.changed:
            while not self.messages:
                self.changed.wait()
            message = self.messages.popleft()
            if isinstance(message, BaseException):
                raise message
            self.held -= _size(message)
            self.changed.notify()
        return self.mailbox.decode(message)

    def _read(self) -> None:
        while True:
            try:
                message: _Message | BaseException = self.mailbox.read()
            except BaseException as error:  # the pipe broke: tell the worker, then stop
                message = error
            with self.changed:
                self.messages.append(message)
                self.changed.notify()
                if isinstance(message, BaseException):
                    return
                self.held += _size(message)
                while self.held > self.limit:
                    self.changed.wait()


def _size(message: _Message) -> int:
    frame, buffers = message
    return len(frame) + sum(len(buffer) for buffer in buffers)
