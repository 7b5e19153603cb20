"""The driver's end of the collector's link: a TCP listener that takes signed batches, one JSON line each.

Anyone who can reach the port can connect, so a batch is decoded only once
its signature under the run's key checks out; a connection that sends
anything else is dropped, with a warning, and the run goes on.
"""

from __future__ import annotations

import json
import logging
import selectors
import socket
from collections.abc import Iterator

from d4py.hosting import Batch
from d4py_storm.codec import TamperedBatch, open_sealed

__all__ = ["DriverLink"]

log = logging.getLogger(__name__)


class DriverLink:
    """Listens on ``host:port`` (port 0: any free one) for the collector's batches."""

    def __init__(self, key: bytes, host: str, port: int = 0, advertise: str | None = None) -> None:
        self.key = key
        self.server = socket.create_server((host, port))
        self.server.setblocking(False)
        self.selector = selectors.DefaultSelector()
        self.selector.register(self.server, selectors.EVENT_READ)
        self._pending: dict[socket.socket, bytes] = {}
        self.address = f"{advertise or host}:{self.server.getsockname()[1]}"

    def receive(self, timeout: float) -> Iterator[Batch]:
        """The batches that arrive within ``timeout`` seconds (fewer if none come)."""
        for selected, _ in self.selector.select(timeout):
            connection = selected.fileobj
            if connection is self.server:
                accepted, _ = self.server.accept()
                self.selector.register(accepted, selectors.EVENT_READ)
                self._pending[accepted] = b""
                continue
            assert isinstance(connection, socket.socket)
            data = connection.recv(1 << 20)
            if not data:
                self._drop(connection)
                continue
            *lines, self._pending[connection] = (self._pending[connection] + data).split(b"\n")
            for line in lines:
                try:
                    yield open_sealed(json.loads(line), self.key)
                except (TamperedBatch, ValueError) as error:
                    log.warning("dropped a connection to the storm driver's port that sent %s", error)
                    self._drop(connection)
                    break

    def _drop(self, connection: socket.socket) -> None:
        self.selector.unregister(connection)
        self._pending.pop(connection, None)
        connection.close()

    def close(self) -> None:
        for connection in list(self._pending):
            self._drop(connection)
        self.selector.close()
        self.server.close()
