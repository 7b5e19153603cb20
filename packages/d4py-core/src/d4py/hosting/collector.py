"""The driver's side of a run: what the hosts send back, gathered into the RunResult.

Every multi-process backend hands each message its processes send the driver
to one :class:`RunCollector`: outputs are kept in plan order, counts summed,
progress passed to the plugins, and the first failure raised. The backend's
loop only waits for batches and watches its processes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from d4py.backend import RunResult
from d4py.hosting.messages import DONE, FAILED, OUTPUT, PROGRESS, REPORT, Message
from d4py.plan import Plan
from d4py.runhooks import RunHooks

__all__ = ["OutputCollector", "RunCollector"]


class OutputCollector:
    """Keeps items written to unconnected outputs, for the RunResult."""

    def __init__(self, plan: Plan) -> None:
        self.order = list(plan.nodes)
        self.outputs: dict[str, dict[str, list[Any]]] = {}

    def add(self, pe_id: str, port: str, item: Any) -> None:
        self.outputs.setdefault(pe_id, {}).setdefault(port, []).append(item)

    def sink(self, pe_id: str, port: str) -> Callable[[Any], None]:
        """The function that keeps items of one PE's port (for instances in this process)."""
        return self.outputs.setdefault(pe_id, {}).setdefault(port, []).append

    def result(self) -> dict[str, dict[str, list[Any]]]:
        """The non-empty outputs, PEs in plan order."""
        result = {}
        for pe_id in self.order:
            ports = {port: items for port, items in self.outputs.get(pe_id, {}).items() if items}
            if ports:
                result[pe_id] = ports
        return result


class RunCollector:
    """Outputs, counts, progress, reports and failures of a run, as its processes send them.

    ``workers`` are the names the processes use in their DONE messages; the
    run is over when each has sent one. Without ``hooks`` (a coordinator that
    is not the driving process), observer reports are kept in ``reports``
    for the backend to pass on, as ``RunHooks.observer_reports`` arguments.
    """

    def __init__(self, plan: Plan, hooks: RunHooks | None, workers: Iterable[int] = ()) -> None:
        self.plan, self.hooks = plan, hooks
        self.outputs = OutputCollector(plan)
        self.counts = dict.fromkeys(plan.nodes, 0)
        self.pending: set[int] = set(workers)
        self.reports: list[tuple[Any, ...]] = []
        self._progress: dict[int, dict[str, int]] = {}

    def expect(self, worker: int) -> None:
        """Wait for ``worker`` too (a process started during the run)."""
        self.pending.add(worker)

    @property
    def done(self) -> bool:
        """Whether every expected process has said it is done."""
        return not self.pending

    def handle(self, batch: Iterable[Message]) -> list[Message]:
        """Take in one batch; raise the error of a FAILED message; return the messages of kinds not core's."""
        others = []
        for message in batch:
            kind = message[0]
            if kind == OUTPUT:
                self.outputs.add(message[1], message[2], message[3])
            elif kind == PROGRESS:
                self._progress[message[1]] = message[2]
                if self.hooks is not None:
                    self.hooks.progress(self._live_counts())
            elif kind == REPORT:
                if self.hooks is not None:
                    self.hooks.observer_reports(*message[1:])
                else:
                    self.reports.append(message[1:])
            elif kind == DONE:
                self.pending.discard(message[1])
                self._progress.pop(message[1], None)
                for pe_id, count in message[2].items():
                    self.counts[pe_id] += count
            elif kind == FAILED:
                raise message[2]
            else:
                others.append(message)
        return others

    def _live_counts(self) -> dict[str, int]:
        totals = dict(self.counts)
        for counts in self._progress.values():
            for pe_id, count in counts.items():
                totals[pe_id] += count
        return totals

    def result(self, backend: str, started: float) -> RunResult:
        """The RunResult, timed from ``started`` (a ``time.perf_counter()`` reading)."""
        return RunResult(self.outputs.result(), self.counts, time.perf_counter() - started, backend)
