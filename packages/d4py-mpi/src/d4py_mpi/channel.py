"""Batches between ranks: core's frames, with buffers sent as raw MPI messages.

A batch is one MPI message holding its frame (:mod:`d4py.hosting.framing`:
the pickle and the sizes of its out-of-band buffers), followed by one
message per buffer, sent straight from the array's memory and received into a
fresh writable buffer. MPI keeps messages between two ranks in order, so a
batch's buffers are the next ones from its sender.

Sends are synchronous-mode (``Issend``): one completes only once the receiver
has started to take it. Each sender keeps at most ``in_flight`` batches per
destination not yet taken, so a slow rank slows the ranks that feed it and
memory stays flat. Waiting never blocks inside MPI, which would spin a core:
it polls with a growing pause (:class:`Pause`), so more ranks than cores run well.
"""

from __future__ import annotations

import time
from collections import defaultdict, deque
from typing import Any

from mpi4py import MPI

from d4py.hosting import Batch, ReceivedBuffers, SentBuffers, buffer_sizes, decode, encode, receive_buffer

__all__ = ["Channel", "Pause"]

_BATCH, _BUFFER = 11, 12


class Pause:
    """A wait that starts as a yield and grows while nothing happens.

    It doubles up to ``longest`` (a millisecond), then, for a rank that has
    waited a while, up to a tenth of the time waited so far, at most
    ``slowest``: a rank waiting long for input, or for its last batches to be
    taken, polls a few times a second instead of a thousand, at a cost in
    latency of a tenth of the wait.
    """

    def __init__(self, longest: float = 1e-3, slowest: float = 0.02) -> None:
        self.longest, self.slowest = longest, slowest
        self.seconds = 0.0
        self.since = time.monotonic()

    def wait(self) -> None:
        time.sleep(self.seconds)
        ceiling = min(self.slowest, max(self.longest, (time.monotonic() - self.since) / 10))
        self.seconds = min(ceiling, self.seconds * 2 or 1e-5)

    def reset(self) -> None:
        self.seconds = 0.0
        self.since = time.monotonic()


class Channel:
    """Sends and receives whole batches between the ranks of one communicator."""

    def __init__(self, comm: MPI.Intracomm, in_flight: int) -> None:
        self.comm, self.in_flight = comm, in_flight
        # Per destination: the requests of each batch not yet taken, with the memory they send from.
        self.pending: dict[int, deque[tuple[list[MPI.Request], list[Any]]]] = defaultdict(deque)
        self.received = ReceivedBuffers()  # what senders asked this rank to keep

    def send(self, dest: int, batch: Batch, sent: SentBuffers | None = None) -> None:
        """Send one batch to rank ``dest``; waits while ``in_flight`` batches there are not yet taken.

        ``sent``: what this rank sent ``dest`` before (MPI delivers one sender's batches in order).
        """
        frame, raws = encode(batch, sent)
        queue = self.pending[dest]
        self._settle(queue, self.in_flight - 1)
        requests = [self.comm.Issend([frame, MPI.BYTE], dest, _BATCH)]
        requests += [self.comm.Issend([raw, MPI.BYTE], dest, _BUFFER) for raw in raws]
        queue.append((requests, [frame, raws]))

    def receive(self) -> tuple[int, Batch] | None:
        """The next batch from any rank, with its sender, or None when none is waiting."""
        status = MPI.Status()
        if not self.comm.Iprobe(MPI.ANY_SOURCE, _BATCH, status):
            return None
        source = status.Get_source()
        frame = bytearray(status.Get_count(MPI.BYTE))
        self.comm.Recv([frame, MPI.BYTE], source, _BATCH)
        buffers = [
            receive_buffer(size, lambda view: self.comm.Recv([view, MPI.BYTE], source, _BUFFER))
            for size in buffer_sizes(frame)
        ]
        return source, decode(frame, buffers, self.received)

    def wait_receive(self) -> tuple[int, Batch]:
        """The next batch from any rank, waiting for it."""
        pause = Pause()
        while (received := self.receive()) is None:
            pause.wait()
        return received

    def drain(self) -> None:
        """Wait until every batch sent has been taken."""
        for queue in self.pending.values():
            self._settle(queue, 0)

    def _settle(self, queue: deque[tuple[list[MPI.Request], list[Any]]], most: int) -> None:
        """Wait until at most ``most`` batches of ``queue`` are still to be taken."""
        pause = Pause()
        while queue:
            while queue and MPI.Request.Testall(queue[0][0]):
                queue.popleft()
            if len(queue) <= most:
                return
            pause.wait()
