"""The :class:`Provenance` plugin: what lineage a run keeps, for ``d4py run --provenance`` and ``d4py.run``.

In the driving process it asks core to trace the run (``d4py_trace``) and
gathers what the instances' observers report into a
:class:`~d4py_monitor.prov.collect.LineageCollector`, which d4py-monitor
saves beside the run's record when the run ends. It travels pickled to
every process that runs instances, where it gives each one a
:class:`~d4py_monitor.prov.observer.LineageObserver`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from d4py import UsageError, hookimpl

if TYPE_CHECKING:
    from d4py import GenericPE
    from d4py.observe import Observer
    from d4py.plan import Plan
    from d4py.runtime import InstanceInfo
    from d4py_monitor.prov.collect import LineageCollector

__all__ = ["DEFAULT_SHARE", "LEVELS", "Provenance", "check_share", "selection"]

LEVELS = ("off", "run", "sampled", "full")
DEFAULT_SHARE = 0.1  # of lineage chains kept by --provenance sampled

Selection = dict[str, frozenset[str] | None]  # PE id -> its output ports kept (None: all of them)


def check_share(share: float, name: str) -> float:
    """``share`` if it is a fraction in (0, 1], else a UsageError naming ``name``."""
    if not 0 < share <= 1:
        raise UsageError(f"{name} {share:g}: give a fraction of lineage chains to keep, more than 0 and at most 1")
    return share


class Provenance:
    """Keep the lineage of a run beside its d4py-monitor record: ``plugins=[Provenance("full")]``.

    ``level``: ``run`` (the run's inputs and outputs only), ``sampled``
    (``share`` of lineage chains, kept whole) or ``full`` (every item);
    ``off`` keeps nothing. ``share`` (default 0.1) is for level ``sampled``
    only. ``select``: ``PE`` or ``PE:PORT`` (a PE's id or name, an output
    port), the items whose value preview and metadata are kept; every item
    keeps its id and parents. None keeps them all.
    """

    def __init__(self, level: str = "full", share: float | None = None, select: Iterable[str] | None = None) -> None:
        if level not in LEVELS:
            raise UsageError(f"provenance level {level!r}: give one of {', '.join(LEVELS)}")
        if share is not None and level != "sampled":
            raise UsageError(f"a provenance share is for level 'sampled', not {level!r}")
        self.level = level
        self.share = {"full": 1.0, "sampled": DEFAULT_SHARE if share is None else share}.get(level, 0.0)
        if level == "sampled":
            check_share(self.share, "provenance share")
        self.select = tuple(select) if select is not None else None
        self.kept: Selection | None = None  # resolved against the run's plan, in d4py_trace
        self.collector: LineageCollector | None = None  # the run's, in the driving process only

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "collector": None}  # what the driver gathers stays there

    @hookimpl
    def d4py_trace(self, plan: Plan) -> float | None:
        if self.level == "off":
            return None
        from d4py_monitor.plugin import expect_lineage
        from d4py_monitor.prov.collect import LineageCollector

        self.kept = selection(plan, self.select)
        self.collector = LineageCollector(plan, self.level, self.share, self.kept)
        expect_lineage(plan, self.collector)
        return self.share if self.level in ("sampled", "full") else None

    @hookimpl
    def d4py_observe(self, pe: GenericPE, info: InstanceInfo) -> Observer | None:
        if self.level not in ("sampled", "full"):
            return None
        from d4py_monitor.prov.observer import LineageObserver

        ports = None if self.kept is None else self.kept.get(info.pe_id, frozenset())
        return LineageObserver(pe, info, ports)

    @hookimpl
    def d4py_observer_report(self, info: InstanceInfo, report: Any, final: bool) -> None:
        from d4py_monitor.prov.observer import LineageReport

        if isinstance(report, LineageReport) and self.collector is not None:
            self.collector.add(info, report)


def selection(plan: Plan, specs: Iterable[str] | None) -> Selection | None:
    """What ``PE[:PORT]`` specs keep, per PE id of ``plan``; a UsageError names a PE or port it does not have."""
    if specs is None:
        return None
    kept: Selection = {}
    for spec in specs:
        name, _, port = spec.partition(":")
        found = [pe_id for pe_id in plan.nodes if pe_id == name] or [
            pe_id for pe_id, node in plan.nodes.items() if node.pe.name == name
        ]
        if len(found) != 1:
            problem = "matches several PEs" if found else "is no PE of this workflow"
            valid = ", ".join(found or plan.nodes)
            raise UsageError(f"--provenance-select {spec!r}: {name!r} {problem}; give one of: {valid}")
        pe_id = found[0]
        if not port:
            kept[pe_id] = None
            continue
        outputs = list(plan.nodes[pe_id].pe.outputconnections)
        if port not in outputs:
            valid = ", ".join(outputs) or "none"
            raise UsageError(f"--provenance-select {spec!r}: PE {pe_id} has no output {port!r}; its outputs: {valid}")
        ports = kept.get(pe_id, frozenset())
        if ports is not None:
            kept[pe_id] = ports | {port}
    return kept
