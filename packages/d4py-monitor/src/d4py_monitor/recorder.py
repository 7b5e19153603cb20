"""The driving process's side: what a run is, what its instances report, and its record as it stands.

The recorder takes in reports in the thread that drives the run, and gives
a record of the run so far (``snapshot``) to the thread that saves it while
it runs (:mod:`d4py_monitor.publisher`), and the final one (``finish``).
"""

from __future__ import annotations

import copy
import dataclasses
import os
import sys
import threading
import time
import traceback
from typing import TYPE_CHECKING, Any

from d4py import Backend, PEFailure, RunResult, __version__
from d4py.plan import Plan
from d4py_monitor.__about__ import __version__ as monitor_version
from d4py_monitor.observer import InstanceObserver, InstanceReport, add_counts, add_sent, host_name
from d4py_monitor.publisher import Publisher, choose_target
from d4py_monitor.record import InstanceRecord, RunRecord, Sent
from d4py_monitor.redact import redact
from d4py_monitor.workflow import describe_workflow

if TYPE_CHECKING:
    import random

    from d4py_monitor.prov.collect import LineageCollector

__all__ = ["Recorder", "describe_error"]

KEYS_KEPT = 10  # the most frequent group_by keys kept per instance and input port


class Recorder:
    """One run, from ``d4py_run_start`` to ``d4py_run_end``, gathering its instances' reports."""

    def __init__(
        self,
        plan: Plan,
        backend: Backend,
        source: str | None = None,
        attr: str | None = None,
        monitor: str | None = None,
        store: str | None = None,
    ) -> None:
        """Record a run of ``plan`` on ``backend``; ``monitor`` and ``store`` say where to (see ``choose_target``)."""
        self.plan = plan
        self.started = time.time()
        self.run = RunRecord(
            id=os.urandom(6).hex(),  # 12 hex digits: a prefix of 4 or 5 tells runs apart
            workflow=describe_workflow(plan, source, attr),
            backend=backend.name,
            options=redact(_options(backend.options)),
            processes=plan.processes,
            inputs={root: len(plan.inputs.get(root, [])) for root in plan.roots},
            started=self.started,
            ended=self.started,
            status="running",
            error=None,
            host=host_name(),
            pid=os.getpid(),
            versions={"d4py": __version__, "d4py-monitor": monitor_version, "python": _python()},
        )
        self.instances: dict[tuple[str, int], InstanceRecord] = {}
        self.seconds: dict[tuple[str, int], dict[int, list[float]]] = {}  # per instance: second -> share
        self.sent: dict[tuple[str, int], dict[tuple[str, str, int, str], list[int]]] = {}  # per instance
        self.keys: dict[tuple[str, int, str], dict[Any, int]] = {}  # group keys per receiving instance and port
        self.latency: dict[tuple[str, int], Reservoir] = {}  # latency samples per instance
        self.observers: list[InstanceObserver] = []  # of the instances this process runs (simple's, all)
        self.lock = threading.Lock()  # reports come in on one thread, snapshots are taken on another
        self.publisher = Publisher(self.snapshot, *choose_target(monitor, store))
        self.lineage: LineageCollector | None = None  # the run's provenance, when kept (d4py_monitor.prov)

    def add(self, report: InstanceReport) -> None:
        """Take in one report of an instance's observer: counts and times are sums of the reports."""
        with self.lock:
            self._add(report)

    def flush(self) -> None:
        """Take in what the observers in this process were given but have not reported (they report once a second).

        What an instance did since it last gave its observer a batch (every
        half second) stays in core: an instance that gave none is left out
        rather than shown with counts of 0.
        """
        for observer in self.observers:
            report = observer.report(final=True)
            if report is not None and report.seconds:
                self.add(report)

    def _add(self, report: InstanceReport) -> None:
        key = (report.pe, report.index)
        instance = self.instances.get(key)
        if instance is None:
            instance = self.instances[key] = InstanceRecord(report.pe, report.index, report.host, report.pid)
        add_counts(instance.reads, report.reads)
        add_counts(instance.writes, report.writes)
        instance.busy_s += report.busy
        instance.idle_s += report.idle
        instance.blocked_s += report.blocked
        add_sent(self.sent.setdefault(key, {}), report.sent)
        self.latency.setdefault(key, Reservoir()).extend(report.latency)
        for (_, pe, index, input_port), counts in report.keys.items():
            add_counts(self.keys.setdefault((pe, index, input_port), {}), counts)
        seconds = self.seconds.setdefault(key, {})
        for second, share in report.seconds.items():
            bucket = seconds.setdefault(second, [0, 0, 0.0, 0.0, 0.0])
            for field, value in enumerate(share):
                bucket[field] += value

    def snapshot(self) -> RunRecord:
        """The run so far, as a live record: status ``running``, ended now, its instances as reported."""
        with self.lock:
            return self._record("running", None, {})

    def finish(self, result: RunResult | None, error: BaseException | None) -> RunRecord:
        """The run's final record, with its outcome."""
        status = "ok" if error is None else "interrupted" if isinstance(error, KeyboardInterrupt) else "failed"
        described = describe_error(error) if error is not None else None
        with self.lock:
            return self._record(status, described, dict(result.counts) if result is not None else {})

    def _record(self, status: str, error: dict[str, Any] | None, counts: dict[str, int]) -> RunRecord:
        """A copy of the run as it stands, its instances in plan order, numbered by process."""
        order = {pe_id: number for number, pe_id in enumerate(self.plan.nodes)}
        instances = sorted(self.instances.values(), key=lambda i: (order[i.pe], i.index))
        copies = [copy.deepcopy(instance) for instance in instances]  # the reports to come change the originals
        processes: dict[tuple[str, int], int] = {}
        for instance in copies:
            seconds = self.seconds.get((instance.pe, instance.index), {})
            instance.series = [
                (second, int(s[0]), int(s[1]), s[2], s[3], s[4]) for second, s in sorted(seconds.items())
            ]
            instance.process = processes.setdefault((instance.host, instance.pid), len(processes))
            reservoir = self.latency.get((instance.pe, instance.index))
            if reservoir is not None and reservoir.seen:
                instance.latency = reservoir.summary()
        for (pe, index, port), landed in self.keys.items():
            for instance in copies:
                if (pe, index) == (instance.pe, instance.index):
                    instance.keys[port] = most_frequent(landed)
        add_traffic(copies, self.sent)
        return dataclasses.replace(
            self.run, ended=time.time(), status=status, error=error, counts=counts, instances=copies
        )


class Reservoir:
    """A uniform sample of at most ``size`` values out of all those offered, and the largest one."""

    def __init__(self, size: int = 4096) -> None:
        self.size, self.seen, self.largest = size, 0, 0.0
        self.values: list[float] = []
        self._random: random.Random | None = None  # made once the sample is full (most runs never fill it)

    def extend(self, values: list[float]) -> None:
        for value in values:
            self.seen += 1
            self.largest = max(self.largest, value)
            if len(self.values) < self.size:
                self.values.append(value)
            else:
                if self._random is None:
                    import random

                    self._random = random.Random(0)
                slot = self._random.randrange(self.seen)
                if slot < self.size:
                    self.values[slot] = value

    def summary(self) -> dict[str, float]:
        """How many values were offered, the median and 95th percentile of the sample, and the largest, in seconds."""
        ranked = sorted(self.values)
        last = len(ranked) - 1
        return {
            "samples": self.seen,
            "p50_s": ranked[round(last * 0.5)],
            "p95_s": ranked[round(last * 0.95)],
            "max_s": self.largest,
        }


def most_frequent(counts: dict[Any, int], top: int = KEYS_KEPT) -> list[tuple[str, int]]:
    """The ``top`` keys with the highest counts, most frequent first, as text (at most 80 characters)."""
    ranked = sorted(counts.items(), key=lambda pair: (-pair[1], repr(pair[0])))[:top]
    return [((key if isinstance(key, str) else repr(key))[:80], count) for key, count in ranked]


def add_traffic(
    instances: list[InstanceRecord], sent: dict[tuple[str, int], dict[tuple[str, str, int, str], list[int]]]
) -> None:
    """Fill each instance's row of the communication matrix, and its bytes in and out per port."""
    by_key = {(instance.pe, instance.index): instance for instance in instances}
    for source, cells in sent.items():
        instance = by_key.get(source)
        if instance is None:
            continue
        row: dict[tuple[str, int], Sent] = {}
        for (output, pe, index, input_port), (items, size) in sorted(cells.items()):
            cell = row.setdefault((pe, index), Sent(pe=pe, index=index, items=0, bytes=0))
            cell["items"] += items
            cell["bytes"] += size
            instance.bytes_out[output] = instance.bytes_out.get(output, 0) + size
            target = by_key.get((pe, index))
            if target is not None:
                target.bytes_in[input_port] = target.bytes_in.get(input_port, 0) + size
        instance.sent = list(row.values())


def describe_error(error: BaseException) -> dict[str, Any]:
    """What a record keeps of a run's error: for a PE that failed, which one, on what, and its traceback."""
    message = str(error) or ("interrupted (Ctrl-C)" if isinstance(error, KeyboardInterrupt) else "")
    described: dict[str, Any] = {"type": type(error).__name__, "message": message}
    if isinstance(error, PEFailure):
        described.update(
            pe=error.pe_id,
            instance=error.instance,
            stage=error.stage,
            item=error.item_text,
            traceback=error.traceback_text,
        )
    elif not isinstance(error, KeyboardInterrupt):
        described["traceback"] = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    return described


def _python() -> str:
    return ".".join(str(part) for part in sys.version_info[:3])


def _options(options: Any) -> dict[str, Any]:
    if dataclasses.is_dataclass(options) and not isinstance(options, type):
        return dataclasses.asdict(options)
    return {}
