"""A run's side of the collector: its records pushed, signed, to ``d4py monitor collect`` over ZeroMQ.

Saving never waits long: the socket queues only for a collector it has
connected to (``IMMEDIATE``), a send that no collector takes within
``SEND_TIMEOUT_MS`` is a :class:`StoreError`, at most ``QUEUED`` records wait
in memory, and closing waits ``SEND_TIMEOUT_MS`` at most for them to leave.
A record that left is delivered to the collector, but nothing confirms that
the collector stored it.
"""

from __future__ import annotations

from d4py_monitor.record import RunRecord
from d4py_monitor.store import StoreError
from d4py_monitor.wire import INSTALL, monitor_key, sign

__all__ = ["QUEUED", "SEND_TIMEOUT_MS", "Sender"]

SEND_TIMEOUT_MS = 2000
QUEUED = 16  # records waiting for a slow collector: each replaces the last, so more would only cost memory


class Sender:
    """Sends the records of runs to the collector at ``address`` (``tcp://HOST:PORT``), as :class:`Store` saves."""

    def __init__(self, address: str, key: bytes | None = None) -> None:
        self.location = address
        try:
            import zmq
        except ImportError:
            raise StoreError(f"sending to the collector {address} needs pyzmq: {INSTALL}") from None
        self.key = key if key is not None else monitor_key()
        self._again = zmq.Again
        self.context = zmq.Context()
        self.socket = self.context.socket(zmq.PUSH)
        self.socket.setsockopt(zmq.IMMEDIATE, 1)
        self.socket.setsockopt(zmq.SNDTIMEO, SEND_TIMEOUT_MS)
        self.socket.setsockopt(zmq.SNDHWM, QUEUED)
        self.socket.setsockopt(zmq.LINGER, SEND_TIMEOUT_MS)
        try:
            self.socket.connect(address)
        except zmq.ZMQError as error:
            self.close()
            raise StoreError(f"cannot connect to the collector {address}: {error}") from None

    def save(self, run: RunRecord) -> None:
        try:
            self.socket.send_multipart(sign(run, self.key))
        except self._again:
            raise StoreError(
                f"no collector took the record at {self.location} within {SEND_TIMEOUT_MS / 1000:g} s "
                "(is d4py monitor collect listening there?)"
            ) from None

    def close(self) -> None:
        self.socket.close()
        self.context.term()
