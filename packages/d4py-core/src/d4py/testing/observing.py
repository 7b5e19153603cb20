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
from d4py.observe import Activity, Observer
from d4py.pe import GenericPE
from d4py.runtime import InstanceInfo

__all__ = ["WATCH_FILE", "InstanceWatch", "WatchReport", "install_watch_plugin"]

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
        self.seen.items_written += len(activity.written)
        self.seen.busy += activity.busy
        self.seen.batches += 1
        for (_, pe_id, _, _), (items, _) in activity.sent.items():
            self.seen.sent[pe_id] += items
        for (_, pe_id, index, _), counts in activity.keys.items():
            self.seen.keys.update({(pe_id, index, key): count for key, count in counts.items()})

    def report(self, final: bool) -> WatchReport | None:
        return self.seen if final else None


class InstanceWatch:
    """Observes every instance; ``reports`` holds each instance's final report, in the driving process."""

    def __init__(self) -> None:
        self.reports: list[WatchReport] = []

    def __getstate__(self) -> dict[str, Any]:
        return {"reports": []}  # a worker's copy starts empty: reports belong to the driver

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
