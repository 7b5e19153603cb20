"""Storm's side of a d4py topology, played on this machine: every task a real multilang subprocess.

No Storm can be installed where d4py is developed, so ``-o emulate=true``
(and the package's tests) run a built topology with this module doing what
Storm's workers do, as Storm documents it and its ShellSpout and ShellBolt
behave:

- read the Flux YAML; number tasks as Storm does (components in id order,
  ``__acker`` among them, task ids from 1);
- start each task's command in the resources folder and shake hands: the
  configuration, a pid directory, and the context (``task->component``,
  ``taskid``, ``componentid``, streams, output fields and groupings both
  ways); expect the pid file and ``{"pid": ...}``;
- activate each spout, then ask it for ``next`` whenever it has synced and
  has fewer than ``topology.max.spout.pending`` tuple trees in flight; hand
  it ``ack`` or ``fail`` when a tree completes or fails;
- route every emit: a direct one goes to the named task, refused (as Storm
  refuses it) unless that task's component subscribes to the stream with
  DIRECT grouping; the emulator routes nothing else, since d4py emits
  nothing else;
- track anchors as Storm's acker does, refusing an anchor to, or an ack or
  fail of, a tuple the bolt no longer holds;
- send each bolt a heartbeat tuple every second and expect a ``sync``
  within ``topology.subprocess.timeout.secs``.

A component that exits, stops answering, or breaks the protocol ends the
emulated topology, as it would kill a Storm worker; :meth:`Emulator.problem`
says which and why. Message time-outs, worker placement, back-pressure and
Storm's serialization between workers are not emulated.

``python -m d4py_storm.emulator DIR/topology.yaml`` runs a topology that
``d4py storm build`` wrote until it is interrupted or fails.
"""

from __future__ import annotations

import argparse
import contextlib
import queue
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from d4py import RunFailed
from d4py_storm.multilang import HEARTBEAT, Channel

__all__ = ["Emulator", "main"]

HEARTBEAT_SECONDS = 1.0  # as ShellBolt's heartbeat timer
SUBPROCESS_TIMEOUT = 30  # seconds; Storm's default supervisor.worker.timeout.secs
MAX_SPOUT_PENDING = 1024  # when the topology does not set topology.max.spout.pending


class ProtocolError(RunFailed):
    """A component did what a Storm worker would refuse, or died."""


@dataclass
class _Task:
    task: int
    component: str
    spout: bool
    process: subprocess.Popen[bytes]
    channel: Channel
    held: set[str] = field(default_factory=set)  # a bolt's tuples not yet acked or failed
    idle: bool = False  # a spout that has synced and may take a command
    commands: deque[dict[str, Any]] = field(default_factory=deque)  # a spout's acks and fails to hand over
    pending: int = 0  # a spout's tuple trees in flight
    answered: float = 0.0  # when a bolt last wrote anything


class Emulator:
    """Runs the topology in ``topology`` (a Flux YAML beside its ``resources`` folder) until killed.

    ``log`` takes each line a component logs or reports as an error, as a
    Storm worker's log would (default: this process's stderr).
    """

    def __init__(
        self, topology: Path, env: dict[str, str] | None = None, log: Callable[[str], None] | None = None
    ) -> None:
        document = yaml.safe_load(topology.read_text())
        self.resources = topology.parent / "resources"
        self.env, self.log = env, log or _to_stderr
        self.config: dict[str, Any] = dict(document.get("config") or {})
        self.specs = {spec["id"]: (spec, True) for spec in document.get("spouts") or []}
        self.specs.update({spec["id"]: (spec, False) for spec in document.get("bolts") or []})
        self.fields = {component: _declared(spec) for component, (spec, _) in self.specs.items()}
        self.subscribed: dict[str, dict[tuple[str, str], str]] = {}
        for stream in document.get("streams") or []:
            grouping = stream["grouping"]
            key = (stream["from"], grouping.get("streamId", "default"))
            self.subscribed.setdefault(stream["to"], {})[key] = grouping["type"]
        self.task_component: dict[int, str] = {}
        for component in sorted([*self.specs, "__acker"]):  # Storm numbers tasks in component-id order
            spec = self.specs.get(component, ({}, False))[0]  # the acker: one task
            count = int(spec.get("numTasks") or spec.get("parallelism") or 1)  # Flux: tasks default to executors
            for _ in range(count):
                self.task_component[len(self.task_component) + 1] = component
        self.tasks: dict[int, _Task] = {}
        self.errors: list[str] = []  # what components reported with "error", as Storm's UI lists them
        self._events: queue.SimpleQueue[tuple[_Task | None, Any]] = queue.SimpleQueue()  # (None, None): wake up
        self._roots: dict[str, set[tuple[int, Any]]] = {}  # tuple id -> the spout trees it belongs to
        self._open: dict[tuple[int, Any], int] = {}  # spout tree -> tuples in it not yet acked
        self._problem: str | None = None
        self._stopping = False
        self.stopped = threading.Event()  # set once the topology has stopped, killed or failed
        self._piddir = tempfile.TemporaryDirectory(prefix="d4py-storm-pids-")
        self._loop = threading.Thread(target=self._run, name="storm-emulator", daemon=True)

    # -- the driver's view --------------------------------------------------------

    def start(self) -> None:
        """Start every task, shake hands with each, and run the topology in a thread."""
        for number, component in self.task_component.items():
            if component != "__acker":
                spec, spout = self.specs[component]
                command = [str(part) for part in spec["constructorArgs"][0]]
                # A session of its own: a terminal's Ctrl-C reaches the driver, which ends the tasks in order.
                process = subprocess.Popen(
                    command,
                    cwd=self.resources,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    env=self.env,
                    start_new_session=True,
                )
                assert process.stdin is not None and process.stdout is not None
                self.tasks[number] = _Task(number, component, spout, process, Channel(process.stdout, process.stdin))
        try:
            self._shake_hands()
        except ProtocolError as error:
            self._problem = str(error)
            raise
        except OSError as error:  # a component that died before it read the setup
            self._problem = f"a component died before its handshake ({error})"
            raise ProtocolError(self._problem) from error
        self._loop.start()

    def _shake_hands(self) -> None:
        for task in self.tasks.values():  # all at once: the components start in parallel
            task.channel.send(self._setup(task))
        for task in self.tasks.values():
            self._check_pid(task, task.channel.read())
            task.answered = time.monotonic()
            threading.Thread(target=self._read, args=(task,), daemon=True).start()
            if task.spout:
                task.commands.append({"command": "activate"})
                task.idle = True

    def problem(self) -> str | None:
        """Why the emulated topology stopped, if it did: a component's death or protocol error."""
        return self._problem

    def kill(self) -> None:
        """End every task (closing its stdin, as a ShellProcess's destroy does) and wait for them."""
        self._stopping = True
        self._events.put((None, None))
        if self._loop.is_alive():
            self._loop.join()
        for task in self.tasks.values():
            with contextlib.suppress(OSError):  # already gone
                task.channel.writer.close()
        for task in self.tasks.values():  # idle tasks end on EOF at once; one busy in a PE is stopped as Storm would
            try:
                task.process.wait(timeout=2)
            except subprocess.TimeoutExpired:
                task.process.terminate()
                try:
                    task.process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    task.process.kill()
                    task.process.wait()
            if task.process.stdout is not None:
                task.process.stdout.close()
        self._piddir.cleanup()

    # -- start-up -----------------------------------------------------------------

    def _setup(self, task: _Task) -> dict[str, Any]:
        targets: dict[str, dict[str, Any]] = {}
        sources: dict[str, dict[str, Any]] = {}
        for component, subscriptions in self.subscribed.items():
            for (source, stream), grouping in subscriptions.items():
                if source == task.component:
                    targets.setdefault(stream, {})[component] = {"type": grouping}
                if component == task.component:
                    sources.setdefault(source, {})[stream] = {"type": grouping}
        pids = Path(self._piddir.name, str(task.task))
        pids.mkdir()
        return {
            "conf": {"topology.name": self._name(), **self.config},
            "pidDir": str(pids),
            "context": {
                "task->component": {str(t): c for t, c in self.task_component.items()},
                "taskid": task.task,
                "componentid": task.component,
                "stream->target->grouping": targets,
                "streams": list(self.fields[task.component]),
                "stream->outputfields": self.fields[task.component],
                "source->stream->grouping": sources,
                "source->stream->fields": {source: self.fields[source] for source in sources},
            },
        }

    def _name(self) -> str:
        return str(self.config.get("topology.name", self.resources.parent.name))

    def _check_pid(self, task: _Task, reply: Any) -> None:
        if not (isinstance(reply, dict) and isinstance(reply.get("pid"), int)):
            raise ProtocolError(f"{task.component} task {task.task} answered the handshake with {reply!r}")
        if not Path(self._piddir.name, str(task.task), str(reply["pid"])).exists():
            raise ProtocolError(f"{task.component} task {task.task} left no pid file named {reply['pid']}")

    def _read(self, task: _Task) -> None:
        while (message := task.channel.read()) is not None:
            self._events.put((task, message))
        self._events.put((task, None))

    # -- the running topology -----------------------------------------------------

    def _run(self) -> None:
        beat = time.monotonic() + HEARTBEAT_SECONDS
        try:
            while not self._stopping:
                self._command_spouts()
                try:
                    task, message = self._events.get(timeout=max(0.0, beat - time.monotonic()))
                except queue.Empty:
                    task, message = None, None
                if time.monotonic() >= beat:
                    beat = time.monotonic() + HEARTBEAT_SECONDS
                    self._heartbeat()
                if task is not None:
                    self._handle(task, message)
        except ProtocolError as error:
            self._problem = str(error)
        except OSError as error:  # a pipe to a component that has died
            self._problem = f"a component's pipe broke ({error})"
        except Exception as error:  # a malformed message, or a bug here: end the run rather than hang it
            self._problem = f"the emulator failed: {type(error).__name__}: {error}"
        finally:
            self.stopped.set()

    def _command_spouts(self) -> None:
        limit = int(self.config.get("topology.max.spout.pending") or MAX_SPOUT_PENDING)
        for task in self.tasks.values():
            if task.spout and task.idle:
                if task.commands:
                    self._send(task, task.commands.popleft())
                elif task.pending < limit:
                    self._send(task, {"command": "next"})
                else:
                    continue
                task.idle = False

    def _heartbeat(self) -> None:
        timeout = int(self.config.get("topology.subprocess.timeout.secs", SUBPROCESS_TIMEOUT))
        for task in self.tasks.values():
            if not task.spout:
                if time.monotonic() - task.answered > timeout:
                    raise ProtocolError(f"{task.component} task {task.task}: subprocess heartbeat timeout")
                heartbeat: dict[str, Any] = {
                    "id": _tuple_id(),
                    "comp": None,
                    "stream": HEARTBEAT,
                    "task": -1,
                    "tuple": [],
                }
                self._send(task, heartbeat)

    def _send(self, task: _Task, message: dict[str, Any]) -> None:
        try:
            task.channel.send(message)
        except OSError as error:  # the component died: report its exit as its reader thread would
            self._exited(task, error)

    def _exited(self, task: _Task, error: OSError | None = None) -> None:
        where = f"{task.component} task {task.task} (pid {task.process.pid})"
        try:
            code = task.process.wait(timeout=SUBPROCESS_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise ProtocolError(f"{where} closed its pipe and went on running ({error})") from error
        raise ProtocolError(f"{where} exited with code {code}") from error

    def _handle(self, task: _Task, message: Any) -> None:
        where = f"{task.component} task {task.task}"
        if message is None:
            self._exited(task)
        task.answered = time.monotonic()
        command = message.get("command") if isinstance(message, dict) else None
        if command == "emit":
            self._emit(task, message)
        elif command == "sync":
            task.idle = task.spout  # a bolt's sync answers a heartbeat
        elif command in ("ack", "fail") and not task.spout:
            self._settle(task, str(message.get("id")), command)
        elif command == "log":
            self.log(f"{where}: {message.get('msg')}")
        elif command == "error":
            self.errors.append(f"{task.component}: {message.get('msg')}")
            self.log(f"{where} reported an error: {message.get('msg')}")
        else:
            raise ProtocolError(f"{where} sent {str(message)[:200]!r}, which a Storm worker does not take")

    def _emit(self, task: _Task, message: dict[str, Any]) -> None:
        where = f"{task.component} task {task.task}"
        stream, values = message.get("stream") or "default", message.get("tuple")
        fields = self.fields[task.component].get(stream)
        if fields is None:
            raise ProtocolError(f"{where} emitted to stream {stream!r}, which it does not declare")
        if not isinstance(values, list) or len(values) != len(fields):
            raise ProtocolError(f"{where} emitted {str(values)[:80]} on {stream!r}, whose fields are {fields}")
        target = self.tasks.get(message.get("task") or 0)
        if target is None:
            raise ProtocolError(
                f"{where} emitted without a task, or to an unknown one: the emulator routes direct emits"
            )
        grouping = self.subscribed.get(target.component, {}).get((task.component, stream))
        if grouping != "DIRECT":
            problem = "does not subscribe to it" if grouping is None else f"expects a regular grouping ({grouping})"
            raise ProtocolError(f"{where} emitted directly to {target.component} on {stream!r}, which {problem}")
        tuple_id = _tuple_id()
        if task.spout:
            roots = set() if message.get("id") is None else {(task.task, message["id"])}
            task.pending += len(roots)
        else:
            roots = set()
            for anchor in message.get("anchors") or []:
                if str(anchor) not in task.held:
                    raise ProtocolError(f"{where}: anchored onto {anchor} after ack/fail")
                roots |= self._roots.get(str(anchor), set())
        for root in roots:
            self._open[root] = self._open.get(root, 0) + 1
        self._roots[tuple_id] = roots
        target.held.add(tuple_id)
        self._send(
            target, {"id": tuple_id, "comp": task.component, "stream": stream, "task": task.task, "tuple": values}
        )

    def _settle(self, task: _Task, tuple_id: str, command: str) -> None:
        if tuple_id not in task.held:
            raise ProtocolError(
                f"{task.component} task {task.task}: {command} of a non-existent or settled id {tuple_id}"
            )
        task.held.discard(tuple_id)
        for root in self._roots.pop(tuple_id, set()):
            if root not in self._open:  # the tree has failed already
                continue
            self._open[root] -= 1
            if command == "fail" or not self._open[root]:
                del self._open[root]
                spout = self.tasks[root[0]]
                spout.pending -= 1
                spout.commands.append({"command": command, "id": root[1]})


def _declared(spec: dict[str, Any]) -> dict[str, list[str]]:
    """The streams a FluxShellSpout or FluxShellBolt declares: the default one, and each setNamedStream."""
    arguments = spec.get("constructorArgs") or []
    streams = {"default": [str(f) for f in arguments[1]]} if len(arguments) > 1 else {}
    for method in spec.get("configMethods") or []:
        if method.get("name") == "setNamedStream":
            name, fields = method["args"]
            streams[str(name)] = [str(f) for f in fields]
    return streams


def _to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _tuple_id() -> str:
    return str(random.getrandbits(63))  # as ShellBolt's ids: a random long, as a string


def main(argv: list[str] | None = None) -> int:
    """Run a built topology here until SIGINT or SIGTERM; exit 1 if it failed."""
    parser = argparse.ArgumentParser(prog="python -m d4py_storm.emulator", description=main.__doc__)
    parser.add_argument("topology", type=Path, metavar="TOPOLOGY", help="the topology.yaml d4py storm build wrote")
    emulator = Emulator(parser.parse_args(argv).topology)
    for signum in (signal.SIGINT, signal.SIGTERM):  # a stop request ends the wait below, as a failure would
        signal.signal(signum, lambda *_: emulator.stopped.set())
    try:
        emulator.start()
        emulator.stopped.wait()
    except RunFailed:  # a component that could not shake hands: problem() says which
        pass
    finally:
        emulator.kill()
    problem = emulator.problem()
    if problem:
        print(f"error: {problem}", file=sys.stderr)
    return 1 if problem else 0


if __name__ == "__main__":
    sys.exit(main())
