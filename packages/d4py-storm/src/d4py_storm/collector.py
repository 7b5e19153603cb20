"""The collector bolt: what every task tells the driver, passed on to it, or logged when there is none.

Under ``d4py run -b storm`` the driver listens on a TCP port and the
collector forwards each batch to it as it came, still signed: the driver
checks the signature, so the collector never decodes what it relays. A
topology built with ``d4py storm build`` and submitted by hand has no
driver: the collector then opens each batch and writes the collected items,
failures and the end of the run to the worker log.
"""

from __future__ import annotations

import json
import reprlib
import socket
from pathlib import Path
from typing import Any

from d4py.hosting import DONE, FAILED, OUTPUT, start_worker
from d4py_storm.codec import open_sealed
from d4py_storm.multilang import Channel, TaskContext, TupleInbox
from d4py_storm.task import worker_here
from d4py_storm.topology import RunSettings, task_layout

__all__ = ["serve_collector"]


class _Forward:
    """Relays batches to the driver, one JSON line each, over one connection opened on first use."""

    def __init__(self, address: str) -> None:
        host, _, port = address.rpartition(":")
        self.address = (host, int(port))
        self.connection: socket.socket | None = None

    def __call__(self, values: Any) -> None:
        if self.connection is None:
            self.connection = socket.create_connection(self.address, timeout=60)
        try:
            self.connection.sendall(json.dumps(values).encode() + b"\n")
        except OSError:
            self.connection.close()
            self.connection = None  # the next batch tries a new connection
            raise


class _Log:
    """Writes what tasks send the driver to the worker log, for topologies that run without one."""

    def __init__(self, channel: Channel, settings: RunSettings) -> None:
        worker = start_worker(worker_here(settings.worker, Path.cwd()))  # items may be of the workflow's classes
        self.channel, self.settings = channel, settings
        self.pending = set(range(len(task_layout(worker.plan))))

    def __call__(self, values: Any) -> None:
        for message in open_sealed(values, self.settings.key):
            if message[0] == OUTPUT:
                self.channel.log(f"d4py output {message[1]}.{message[2]}: {reprlib.repr(message[3])}")
            elif message[0] == FAILED:
                self.channel.log(f"d4py run failed: {message[2]}", "error")
            elif message[0] == DONE:
                self.pending.discard(message[1])
                if not self.pending:
                    self.channel.log(
                        f"d4py: every task has ended; stop the topology with: storm kill {self.settings.name}"
                    )


def serve_collector(channel: Channel, context: TaskContext, settings: RunSettings) -> int:
    """Pass on every batch until Storm closes stdin; a batch that cannot be passed on fails its tuple."""
    inbox = TupleInbox(channel)
    relay = _Forward(settings.driver) if settings.driver else _Log(channel, settings)
    while (received := inbox.next()) is not None:
        tuple_id = str(received.get("id"))
        try:
            relay(received.get("tuple"))
        except Exception as error:
            where = f"the driver at {settings.driver}" if settings.driver else "the worker log"
            channel.error(f"{context.component}: cannot pass a batch on to {where}: {error}")
            channel.fail(tuple_id)
        else:
            channel.ack(tuple_id)
    return 0
