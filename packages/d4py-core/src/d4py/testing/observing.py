"""A plugin for tests: observe every instance of a run and keep, in the driving process, what each reported.

    from d4py.testing.observing import InstanceWatch

    watch = InstanceWatch()
    result = d4py.run(graph, backend="multi", plugins=[watch])
    assert watch.totals("reads") == result.counts

Registered for a run, it travels to every process that runs instances; its
observers report once, after ``postprocess``, and the reports come back to
the ``InstanceWatch`` object the test holds.

:func:`install_watch_plugin` writes a plugin *distribution* instead, found
through the ``d4py`` entry point like any installed plugin, for tests that
run the ``d4py`` command in another process.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from d4py.hookspecs import hookimpl
from d4py.lineage import Record, kept, roots
from d4py.observe import Activity, Observer
from d4py.pe import GenericPE
from d4py.plan import Plan
from d4py.runtime import InstanceInfo

__all__ = ["WATCH_FILE", "InstanceWatch", "LineageWatch", "WatchReport", "install_watch_plugin"]

WATCH_FILE = "D4PY_WATCH_FILE"  # the installed watch plugin appends one JSON line per instance to this file

_WATCH_PLUGIN = """
import json, os
from d4py import hookimpl
from d4py.observe import Observer


class Counted(dict):  # this plugin's reports, told apart by type: other plugins' reach the hook too
    pass


class Count(Observer):
    def __init__(self, info):
        self.info, self.reads, self.writes = info, 0, 0

    def observe(self, activity):
        self.reads += sum(activity.reads.values())
        self.writes += sum(activity.writes.values())

    def report(self, final):
        if final:
            return Counted(pe=self.info.pe_id, index=self.info.index, reads=self.reads,
                           writes=self.writes, pid=os.getpid())


@hookimpl
def d4py_observe(pe, info):
    return Count(info)


@hookimpl
def d4py_observer_report(info, report, final):
    if not isinstance(report, Counted):
        return
    with open(os.environ["D4PY_WATCH_FILE"], "a") as out:
        out.write(json.dumps(report) + "\\n")
"""


def install_watch_plugin(folder: Path) -> Path:
    """Write a plugin distribution, ``d4py-watch`` (entry point ``watch``), into ``folder``; return it.

    Put ``folder`` on ``PYTHONPATH`` and set :data:`WATCH_FILE`: every
    instance's observer then appends ``{"pe", "index", "reads", "writes",
    "pid"}`` to that file, from the driving process, when it has finished.
    """
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "d4py_watch.py").write_text(_WATCH_PLUGIN)
    info = folder / "d4py_watch-1.0.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: d4py-watch\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[d4py]\nwatch = d4py_watch\n")
    return folder


@dataclass
class WatchReport:
    """Everything one instance's observer saw, sent once it had finished."""

    pe_id: str
    index: int
    pid: int
    reads: Counter[str] = field(default_factory=Counter)
    writes: Counter[str] = field(default_factory=Counter)
    items_written: int = 0
    busy: float = 0.0
    batches: int = 0
    sent: Counter[str] = field(default_factory=Counter)  # items sent per destination PE
    keys: Counter[tuple[str, int, Any]] = field(default_factory=Counter)  # (PE, instance, key) -> group keys sent


class _Watcher(Observer):
    wants_items = True

    def __init__(self, info: InstanceInfo) -> None:
        self.seen = WatchReport(info.pe_id, info.index, os.getpid())

    def observe(self, activity: Activity) -> None:
        self.seen.reads.update(activity.reads)
        self.seen.writes.update(activity.writes)
        self.seen.items_written += sum(1 for port in activity.written.ports if port)
        self.seen.busy += activity.busy
        self.seen.batches += 1
        for (_, pe_id, _, _), (items, _) in activity.sent.items():
            self.seen.sent[pe_id] += items
        for (_, pe_id, index, _), counts in activity.keys.items():
            self.seen.keys.update({(pe_id, index, key): count for key, count in counts.items()})

    def report(self, final: bool) -> WatchReport | None:
        return self.seen if final else None


class InstanceWatch:
    """Observes every instance; ``reports`` holds each instance's final report, in the driving process.

    ``trace``: the share of lineage chains the run traces (0: none).
    """

    def __init__(self, trace: float = 0.0) -> None:
        self.reports: list[WatchReport] = []
        self.trace = trace

    def __getstate__(self) -> dict[str, Any]:
        return {"reports": [], "trace": self.trace}  # a worker's copy starts empty: reports belong to the driver

    @hookimpl
    def d4py_trace(self, plan: Plan) -> float | None:
        return self.trace or None

    @hookimpl
    def d4py_observe(self, pe: GenericPE, info: InstanceInfo) -> Observer:
        return _Watcher(info)

    @hookimpl
    def d4py_observer_report(self, info: InstanceInfo, report: Any, final: bool) -> None:
        if isinstance(report, WatchReport):
            self.reports.append(report)

    def totals(self, what: str) -> dict[str, int]:
        """Per PE, the sum over instances and ports of ``reads`` or ``writes``."""
        totals: dict[str, int] = {}
        for report in self.reports:
            totals[report.pe_id] = totals.get(report.pe_id, 0) + sum(getattr(report, what).values())
        return totals


class _Recorder(Observer):
    wants_items = True

    def __init__(self, info: InstanceInfo) -> None:
        self.info = info
        self.records: list[tuple[str, int, Record]] = []
        self.failed: tuple[tuple[int, ...], Any] | None = None

    def observe(self, activity: Activity) -> None:
        here = self.info.pe_id, self.info.index
        self.records.extend((*here, record) for record in activity.written.records() if kept(record[0]))
        self.failed = activity.failed if activity.failed is not None else self.failed

    def report(self, final: bool) -> tuple[str, list[tuple[str, int, Record]], Any] | None:
        if not (self.records or final):
            return None
        report = ("lineage", self.records, self.failed)
        self.records = []
        return report


class LineageWatch:
    """Traces a run (``share`` of its chains) and keeps every lineage record in the driving process.

    ``records`` maps each id to ``(pe, instance, record)``; :meth:`explain`
    gives, for each item written to an unconnected output, its root inputs.
    """

    def __init__(self, share: float = 1.0) -> None:
        self.share = share
        self.records: dict[int, tuple[str, int, Record]] = {}
        self.failed: list[tuple[str, int, tuple[tuple[int, ...], Any]]] = []
        self.unconnected: set[tuple[str, str]] = set()

    def __getstate__(self) -> dict[str, Any]:
        return {"share": self.share, "records": {}, "failed": [], "unconnected": set()}

    @hookimpl
    def d4py_trace(self, plan: Plan) -> float:
        self.unconnected = {
            (pe_id, port)
            for pe_id, node in plan.nodes.items()
            for port in node.pe.outputconnections
            if (pe_id, port) not in plan.outgoing
        }
        return self.share

    @hookimpl
    def d4py_observe(self, pe: GenericPE, info: InstanceInfo) -> Observer:
        return _Recorder(info)

    @hookimpl
    def d4py_observer_report(self, info: InstanceInfo, report: Any, final: bool) -> None:
        if isinstance(report, tuple) and report and report[0] == "lineage":
            _, records, failed = report
            for pe_id, index, record in records:
                assert record[0] not in self.records, f"id {record[0]} given twice"
                self.records[record[0]] = (pe_id, index, record)
            if failed is not None:
                self.failed.append((info.pe_id, info.index, failed))

    def explain(self) -> list[tuple[str, Any, list[tuple[str, Any]]]]:
        """Each output item (PE, item) with its roots [(PE, item)], sorted, to compare between runs."""
        plain = {item_id: record for item_id, (_, _, record) in self.records.items()}
        known: dict[int, frozenset[int]] = {}
        explained = []
        for item_id, (pe_id, _, (_, port, _, item)) in self.records.items():
            if (pe_id, port) in self.unconnected:
                found = [self.records[root] for root in roots(plain, item_id, known)]
                explained.append((pe_id, repr(item), sorted((root[0], repr(root[2][3])) for root in found)))
        return sorted(explained)
