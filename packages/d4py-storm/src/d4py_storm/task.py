"""One task of a PE component: core's ProcessHost for one slot, driven by Storm's spout or bolt calls.

A spout (its partition holds a root) feeds one run input per ``next``
(``ProcessHost.root_steps``) and emits each batch with a message id, so
Storm tracks every tuple tree and ``topology.max.spout.pending`` bounds what
is in flight. A bolt hands each tuple's batch to the host, emits what that
produced anchored to the tuple, and only then acks it; a PE's exception
fails the tuple, reports the error to Storm, and sends core's FAILED message
(naming PE, instance and item) to the driver. End-of-stream marks travel in
the batches like items, so each instance ends once every upstream task has
ended, as on every backend.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from d4py.hosting import (
    FAILED,
    Batch,
    HostTransport,
    Outbox,
    SentBuffers,
    WorkerSettings,
    portable_error,
    start_worker,
)
from d4py_storm.codec import open_sealed, seal
from d4py_storm.multilang import Channel, TaskContext, TupleInbox
from d4py_storm.topology import COLLECT, COLLECTOR, ITEMS, STARTED, RunSettings, is_spout, task_layout

__all__ = ["PETask", "serve_task", "worker_here"]

# Storm's multilang guide: a spout with nothing to emit sleeps a little before it syncs, or its worker spins.
IDLE_SECONDS = 0.05


def worker_here(worker: WorkerSettings, resources: Path) -> WorkerSettings:
    """The worker settings with paths relative to the resources folder made absolute."""
    return replace(
        worker,
        paths=tuple(str(resources / path) for path in worker.paths),
        workflow_files={name: str(resources / file) for name, file in worker.workflow_files.items()},
    )


class PETask:
    """The slot (partition, index) this task runs, with emits for its outboxes."""

    def __init__(self, channel: Channel, context: TaskContext, settings: RunSettings) -> None:
        worker = start_worker(worker_here(settings.worker, Path.cwd()))
        plan = worker.plan
        partition = settings.components.index(context.component)
        instances = plan.nodes[plan.partitions[partition][0]].instances
        if len(context.tasks[context.component]) != instances:
            raise RuntimeError(
                f"component {context.component!r} has {len(context.tasks[context.component])} tasks but the plan "
                f"runs {instances} instances of it; d4py routes to one task per instance: keep its parallelism"
            )
        layout = task_layout(plan)
        self.channel, self.key, self.context = channel, settings.key, context
        self.spout = is_spout(plan, partition)
        self.number = layout.index([(partition, context.index)])
        self.anchor: str | None = None  # the tuple being handled: what it produces is anchored to it
        self.broken = False
        self.busy = False  # a spout inside a root's call, where Storm hears nothing else from it
        self._stopped = threading.Event()
        self._ids = itertools.count(1)
        tasks = [context.tasks[settings.components[p]][k] for [(p, k)] in layout]
        # Arrays frozen as written, but never kept: Storm may replay or reorder tuples, and naming a
        # kept array needs every frame to arrive, in order.
        outboxes = [Outbox(self._sender(task, ITEMS), settings.batch, SentBuffers(0)) for task in tasks]
        collector = context.tasks[COLLECTOR][0]
        self.to_driver = Outbox(self._sender(collector, COLLECT), settings.batch, SentBuffers(0))
        self.transport = HostTransport(plan, outboxes.__getitem__, self.to_driver, layout)
        self.host = worker.host(layout[self.number], self.transport, self.number)
        self.to_driver.put((STARTED, self.number, context.component, context.task))

    def _sender(self, task: int, stream: str) -> Callable[[Batch], None]:
        def send(batch: Batch) -> None:
            anchors = [self.anchor] if self.anchor is not None else None
            self.channel.emit(seal(batch, self.key), task, stream, anchors, next(self._ids) if self.spout else None)

        return send

    def attempt(self, action: Callable[[], None]) -> bool:
        """Run ``action``; on an exception tell the driver and Storm, and stop handling items."""
        try:
            action()
            return True
        except BaseException as error:
            failure = portable_error(error, "storm")
            for message in [*self.host.last_messages(), (FAILED, self.number, failure)]:  # reports first
                self.to_driver.put(message)
            self.to_driver.flush()
            self.channel.error(f"{self.context.component} task {self.context.task}: {failure}")
            self.broken = True
            return False

    def end_if_finished(self) -> None:
        """Once every hosted instance has ended: flush, then tell the driver (after what it may depend on)."""
        self.transport.flush()
        if self.host.finished:
            self.to_driver.put(self.host.done())
            self.to_driver.flush()

    # -- as a spout -------------------------------------------------------------

    def serve_spout(self) -> int:
        steps: Iterator[None] | None = None
        threading.Thread(target=self.keep_alive, name="spout-keep-alive", daemon=True).start()
        while (message := self.channel.read()) is not None:
            if not isinstance(message, dict):  # task ids answer non-direct emits, which d4py never makes
                continue
            command = message.get("command")
            if command == "next":
                if steps is None:  # preprocess on the first next: a spout may emit only while Storm listens
                    steps = self.host.root_steps()
                    self.attempt(self.host.start)
                self.next_tuple(steps)
            elif command == "fail":
                self.channel.log(
                    f"batch {message.get('id')} failed downstream or outlived topology.message.timeout.secs; "
                    "d4py does not replay batches",
                    "warn",
                )
            self.channel.sync()  # next, ack, fail, activate and deactivate all end in a sync
        self._stopped.set()
        return 0

    def keep_alive(self) -> None:
        """Write a debug line whenever a root has been silent for a third of the time Storm allows.

        A ShellSpout reads its process only while it answers a command, and
        kills it after ``topology.subprocess.timeout.secs`` of silence; a root
        may compute longer than that for one run input.
        """
        interval = self.context.silence_allowed / 3
        while not self._stopped.wait(interval / 2):
            if self.busy and time.monotonic() - self.channel.sent_at > interval:
                self.channel.log("d4py: a root is still computing", "debug")

    def next_tuple(self, steps: Iterator[None]) -> None:
        if self.broken or self.host.finished:
            time.sleep(IDLE_SECONDS)
            return

        def step() -> None:
            next(steps, None)
            self.end_if_finished()

        self.busy = True
        try:
            self.attempt(step)
        finally:
            self.busy = False

    # -- as a bolt --------------------------------------------------------------

    def serve_bolt(self) -> int:
        inbox = TupleInbox(self.channel)
        self.attempt(self.host.start)
        while (received := inbox.next()) is not None:
            tuple_id = str(received.get("id"))
            if self.broken:  # the run has failed: refuse the rest, do not process it
                self.channel.fail(tuple_id)
                continue
            self.anchor = tuple_id
            handled = self.attempt(lambda: self.handle(received))
            self.anchor = None  # acked or failed: nothing may be anchored to it any more
            (self.channel.ack if handled else self.channel.fail)(tuple_id)
        return 0

    def handle(self, received: dict[str, Any]) -> None:
        self.host.dispatch(open_sealed(received.get("tuple"), self.key))
        self.end_if_finished()


def serve_task(channel: Channel, context: TaskContext, settings: RunSettings) -> int:
    """Host this task's slot until Storm closes stdin."""
    task = PETask(channel, context, settings)
    return task.serve_spout() if task.spout else task.serve_bolt()
