"""The collector: a thread that receives the records runs send (``d4py run --monitor``) and saves them.

It binds a ZeroMQ PULL socket, so any number of runs, anywhere, may push
to it; it stores only records signed with its key (:mod:`d4py_monitor.wire`),
drops others (and says so once), and keeps a run's final record over a late
live one.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from d4py import UsageError
from d4py_monitor.record import RunRecord
from d4py_monitor.store import Store, StoreError
from d4py_monitor.wire import INSTALL, BadMessage, monitor_key, verify

if TYPE_CHECKING:
    import zmq

__all__ = ["MAX_MESSAGE_BYTES", "Collector"]

MAX_MESSAGE_BYTES = 256 * 2**20  # a larger message is refused before it is read: someone is flooding the port
STOP_SECONDS = 10.0

logger = logging.getLogger("d4py_monitor")


class Collector:
    """Receives run records at ``address`` (``tcp://HOST:PORT``; port 0 or ``*``: any) and saves them in ``store``.

    ``key`` defaults to the shared key (``$D4PY_MONITOR_KEY`` or the key
    file); ``on_saved`` is called, in the collector's thread, with each run
    whose status changed (its first record, its final one).
    """

    def __init__(
        self,
        address: str,
        store: Store,
        key: bytes | None = None,
        on_saved: Callable[[RunRecord], None] | None = None,
    ) -> None:
        try:
            import zmq
        except ImportError:
            raise StoreError(f"the collector needs pyzmq: {INSTALL}") from None
        self.address, self.store, self.on_saved = address, store, on_saved
        self.key = key if key is not None else monitor_key()
        self.context = zmq.Context()
        self.thread: threading.Thread | None = None
        self.statuses: dict[str, str] = {}  # each run's status as last saved
        self.dropped = 0  # messages not signed with the key

    def start(self) -> str:
        """Bind, start receiving in a thread, and return the bound address (with the port chosen)."""
        import zmq

        receiver = self.context.socket(zmq.PULL)
        receiver.setsockopt(zmq.LINGER, 0)
        receiver.setsockopt(zmq.MAXMSGSIZE, MAX_MESSAGE_BYTES)
        control = self.context.socket(zmq.PAIR)
        try:
            receiver.bind(self.address)
            control.bind(f"inproc://d4py-monitor-collector-{id(self)}")
        except zmq.ZMQError as error:
            receiver.close()
            control.close()
            # An address this machine cannot listen on (in use, not its own) is the user's to change: exit 2.
            raise UsageError(f"cannot listen on {self.address}: {error}; give another address or port") from None
        bound = receiver.getsockopt(zmq.LAST_ENDPOINT)
        assert isinstance(bound, bytes)
        self.thread = threading.Thread(target=self._receive, args=(receiver, control), name="d4py-monitor collector")
        self.thread.start()
        return bound.decode()

    def stop(self) -> None:
        """Stop receiving and wait for the thread (a save under way ends first)."""
        import zmq

        if self.thread is not None:
            stopper = self.context.socket(zmq.PAIR)
            stopper.setsockopt(zmq.LINGER, 0)
            stopper.connect(f"inproc://d4py-monitor-collector-{id(self)}")
            stopper.send(b"stop")
            self.thread.join(STOP_SECONDS)
            stopper.close()
            self.thread = None
        self.context.term()

    def _receive(self, receiver: zmq.Socket[bytes], control: zmq.Socket[bytes]) -> None:
        import zmq

        poller = zmq.Poller()
        poller.register(receiver, zmq.POLLIN)
        poller.register(control, zmq.POLLIN)
        try:
            while control not in dict(poller.poll()):
                frames = receiver.recv_multipart()
                try:
                    self._take(frames)
                except Exception as error:  # one record gone wrong must not stop the collector
                    logger.warning("d4py-monitor: a record was not stored: %s: %s", type(error).__name__, error)
        finally:
            receiver.close()
            control.close()

    def _take(self, frames: list[bytes]) -> None:
        """Verify one message and save the record it carries."""
        try:
            run = verify(frames, self.key)
        except BadMessage as error:
            self.dropped += 1
            if self.dropped == 1:
                logger.warning("d4py-monitor: dropped a message (%s); further ones are dropped silently", error)
            return
        previous = self.statuses.get(run.id)
        if previous not in (None, "running") and run.status == "running":
            return  # a live record that arrived after the final one
        try:
            self.store.save(run)
        except StoreError as error:
            logger.warning("d4py-monitor: run %s was not stored: %s", run.id, error)
            return
        self.statuses[run.id] = run.status
        if previous != run.status and self.on_saved is not None:
            self.on_saved(run)
