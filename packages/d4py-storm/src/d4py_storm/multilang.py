"""Storm's multilang protocol, both ends: JSON messages, each followed by a line ``end``.

:class:`Channel` reads and writes the messages on a pair of byte streams
(a component's stdin and stdout, or the emulator's pipes to a component).
:class:`TaskContext` is what a component learns from the handshake: its
component, its task id, and every component's tasks, from which it finds its
own index the way Storm's ``TopologyContext`` does (the position of its task
id among its component's sorted task ids).
"""

from __future__ import annotations

import json
import os
import queue
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

__all__ = ["HEARTBEAT", "Channel", "TaskContext", "TupleInbox", "handshake"]

HEARTBEAT = "__heartbeat"  # the stream of a ShellBolt's heartbeat tuples, to be answered with a sync
_LEVELS = {"trace": 0, "debug": 1, "info": 2, "warn": 3, "error": 4}  # the "level" of a log message


class Channel:
    """One end of a multilang conversation; writes are whole messages, safe from several threads."""

    def __init__(self, reader: IO[bytes], writer: IO[bytes]) -> None:
        self.reader, self.writer = reader, writer
        self._lock = threading.Lock()
        self.sent_at = time.monotonic()  # when this end last wrote: Storm takes silence for a hung process

    def read(self) -> Any:
        """The next message, or None once the other end has closed."""
        lines: list[bytes] = []
        while True:
            line = self.reader.readline()
            if not line:
                return None
            line = line.rstrip(b"\r\n")
            if line == b"end":
                return json.loads(b"\n".join(lines)) if lines else None
            lines.append(line)

    def send(self, message: Any) -> None:
        """Write one message and its ``end`` line (json.dumps escapes newlines, so a message is one line)."""
        data = json.dumps(message, separators=(",", ":")).encode() + b"\nend\n"
        with self._lock:
            self.writer.write(data)
            self.writer.flush()
            self.sent_at = time.monotonic()

    def emit(
        self, values: list[Any], task: int, stream: str, anchors: list[str] | None, message_id: int | None
    ) -> None:
        """Emit a tuple directly to ``task``: anchored (a bolt's) or with a message id (a spout's)."""
        message: dict[str, Any] = {"command": "emit", "stream": stream, "task": task, "tuple": values}
        if anchors:
            message["anchors"] = anchors
        if message_id is not None:
            message["id"] = message_id
        self.send(message)

    def ack(self, tuple_id: str) -> None:
        self.send({"command": "ack", "id": tuple_id})

    def fail(self, tuple_id: str) -> None:
        self.send({"command": "fail", "id": tuple_id})

    def sync(self) -> None:
        self.send({"command": "sync"})

    def log(self, text: str, level: str = "info") -> None:
        """A line in the Storm worker's log."""
        self.send({"command": "log", "msg": text, "level": _LEVELS[level]})

    def error(self, text: str) -> None:
        """An error Storm reports for this component (the UI, ``storm get-errors``)."""
        self.send({"command": "error", "msg": text})


@dataclass(frozen=True)
class TaskContext:
    """Which task this component is, among the topology's components and tasks."""

    component: str
    task: int
    tasks: dict[str, list[int]]  # component id -> its task ids, sorted
    conf: dict[str, Any]

    @classmethod
    def from_setup(cls, setup: dict[str, Any]) -> TaskContext:
        context = setup["context"]
        tasks: dict[str, list[int]] = {}
        for task, component in context["task->component"].items():
            tasks.setdefault(component, []).append(int(task))
        task = int(context["taskid"])
        component = context.get("componentid") or context["task->component"][str(task)]
        return cls(component, task, {name: sorted(ids) for name, ids in tasks.items()}, setup.get("conf") or {})

    @property
    def silence_allowed(self) -> float:
        """How long Storm lets this process stay silent before it kills it as hung, in seconds."""
        timeout = self.conf.get("topology.subprocess.timeout.secs") or self.conf.get("supervisor.worker.timeout.secs")
        return float(timeout or 30)

    @property
    def index(self) -> int:
        """This task's index within its component: the PE instance it runs."""
        return self.tasks[self.component].index(self.task)


def handshake(channel: Channel) -> TaskContext:
    """Take Storm's setup message, leave the pid file Storm's supervisor looks for, and answer with the pid."""
    setup = channel.read()
    if not isinstance(setup, dict) or "context" not in setup or "pidDir" not in setup:
        raise RuntimeError(f"expected Storm's multilang handshake on stdin, got {str(setup)[:200]!r}")
    pid = os.getpid()
    Path(setup["pidDir"], str(pid)).touch()
    channel.send({"pid": pid})
    return TaskContext.from_setup(setup)


class TupleInbox:
    """A bolt's stdin, read in a thread of its own: heartbeats answered at once, tuples queued.

    A ShellBolt kills a subprocess that has not answered for
    ``topology.subprocess.timeout.secs``; answering from this thread keeps a
    PE that computes longer than that alive. Task-id lists (answers to
    non-direct emits, which d4py never makes) are dropped.
    """

    def __init__(self, channel: Channel) -> None:
        self.channel = channel
        self._tuples: queue.SimpleQueue[dict[str, Any] | None] = queue.SimpleQueue()
        threading.Thread(target=self._read, name="multilang-inbox", daemon=True).start()

    def next(self) -> dict[str, Any] | None:
        """The next tuple, or None once Storm has closed stdin."""
        return self._tuples.get()

    def _read(self) -> None:
        try:
            while (message := self.channel.read()) is not None:
                if isinstance(message, dict) and message.get("stream") == HEARTBEAT:
                    self.channel.sync()
                elif isinstance(message, dict):
                    self._tuples.put(message)
        finally:
            self._tuples.put(None)
