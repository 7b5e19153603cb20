"""The driving process's side of provenance: a run's lineage reports gathered into a :class:`RunLineage`.

Reports arrive on the thread that drives the run, and the lineage is made
once, when the run ends (:meth:`LineageCollector.finish`), for d4py-monitor
to save beside the run's final record. At level ``run`` nothing is traced:
the run's inputs come from the plan and its outputs from the result, with
the ids a traced run would have given them, and no parents.
"""

from __future__ import annotations

from d4py import PEFailure, RunResult
from d4py.lineage import RUN_INPUT, Lineage, Written, instance_number
from d4py.plan import Plan
from d4py.runtime import InstanceInfo
from d4py_monitor.prov.model import Failure, ItemBatch, RunLineage, preview
from d4py_monitor.prov.observer import LineageReport
from d4py_monitor.prov.plugin import Selection

__all__ = ["LineageCollector"]


class LineageCollector:
    """One run's lineage, from ``d4py_trace`` to the run's end: ``level`` and ``share`` as the run was asked.

    ``kept``: the output ports whose values are kept, per PE id (None: every port; see
    :func:`~d4py_monitor.prov.plugin.selection`); at level ``run``, for the run's outputs.
    """

    def __init__(self, plan: Plan, level: str, share: float, kept: Selection | None = None) -> None:
        self.plan, self.level, self.share, self.kept = plan, level, share, kept
        self.failures: list[Failure] = []
        self._batches: list[ItemBatch] = []

    def add(self, info: InstanceInfo, report: LineageReport) -> None:
        """Take in one report of an instance's lineage observer."""
        if report.rows:
            outputs = self._unconnected(info.pe_id, set(report.rows.ports))
            self._batches.append(ItemBatch(info.pe_id, info.index, report.rows, outputs, report.metadata))
        if report.failure is not None:
            inputs, value = report.failure
            self.failures.append(Failure(info.pe_id, info.index, inputs, value))

    def finish(self, run_id: str, result: RunResult | None, error: BaseException | None) -> RunLineage:
        """The run's lineage; its failures say what went wrong, from the run's error."""
        batches, self._batches = self._batches, []
        if self.level == "run":
            batches.extend(self._run_level(result, error))
        failures = [_with_error(failure, error) for failure in self.failures]
        return RunLineage(run_id, self.level, self.share, failures=failures, batches=batches)

    def _unconnected(self, pe_id: str, ports: set[str | None]) -> frozenset[str]:
        """Those of ``ports`` of ``pe_id`` that nothing reads (declared or not): what it writes there are results."""
        return frozenset(port for port in ports if port and (pe_id, port) not in self.plan.outgoing)

    def _run_level(self, result: RunResult | None, error: BaseException | None) -> list[ItemBatch]:
        """The run's inputs and outputs, without parents; its failed call, if a PE raised."""
        batches = []
        for root in self.plan.roots:
            fed = Written()
            inputs = Lineage(0, instance_number(self.plan, root, RUN_INPUT), 1.0, fed)
            for turn, given in enumerate(self.plan.inputs.get(root, [])):
                inputs.fed(turn, given)
            batches.append(self._previewed(root, RUN_INPUT, fed, frozenset()))
        for pe_id, ports in (result.outputs if result is not None else {}).items():
            written = Written()
            # which instance wrote each output is not traced at this level: instance 0's number for all
            outputs = Lineage(instance_number(self.plan, pe_id, 0), 0, 1.0, written)
            for port, items in ports.items():
                for item in items:
                    outputs.next_id(port, item)
            batches.append(self._previewed(pe_id, 0, written, frozenset(ports)))
        if isinstance(error, PEFailure):
            self.failures.append(Failure(error.pe_id, error.instance, (), error.item_text or ""))
        return [batch for batch in batches if batch.rows]

    def _previewed(self, pe_id: str, instance: int, written: Written, outputs: frozenset[str]) -> ItemBatch:
        """``written`` as a batch of ``pe_id``: each item's preview where its value is kept, else ``""``."""
        ports = None if self.kept is None else self.kept.get(pe_id, frozenset())
        written.items = [
            preview(item) if port not in outputs or ports is None or port in ports else ""
            for port, item in zip(written.ports, written.items, strict=True)
        ]
        return ItemBatch(pe_id, instance, written, outputs)


def _with_error(failure: Failure, error: BaseException | None) -> Failure:
    """``failure`` with the error of the run, if that is the call that raised it."""
    if not isinstance(error, PEFailure) or (error.pe_id, error.instance) != (failure.pe, failure.instance):
        return failure
    return Failure(failure.pe, failure.instance, failure.inputs, failure.value, _last_line(error))


def _last_line(error: PEFailure) -> str:
    """The exception line of the PE's traceback (``ValueError: cannot handle 7``), else the failure's message."""
    lines = [line for line in (error.traceback_text or "").splitlines() if line.strip()]
    return lines[-1] if lines else str(error)
