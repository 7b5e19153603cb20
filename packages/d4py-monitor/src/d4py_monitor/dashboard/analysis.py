"""What the run page shows beyond the record: totals per PE, the bottleneck, the graph's layers, the matrix.

**The bottleneck** is the PE whose instances spent the most time busy in the
PE's own code, per instance (its busy seconds over its instances that
reported). Work on it is what the run waited for: giving it more instances,
or a faster ``process``, shortens the run. The PEs that feed it back this
up when they were *blocked*, waiting to send to a full downstream: their
blocked seconds are reported with it. A run whose PEs did no measurable work
(no busy time at all) names none.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from d4py_monitor.record import InstanceRecord, RunRecord, RunSummary

__all__ = ["PETotals", "analyse", "bottleneck", "compare", "filter_summaries", "layers", "matrix"]


@dataclass
class PETotals:
    """One PE's instances added up."""

    pe: str
    instances: int = 0
    items_in: int = 0
    items_out: int = 0
    busy_s: float = 0.0
    idle_s: float = 0.0
    blocked_s: float = 0.0
    series: dict[int, list[float]] = field(default_factory=dict)  # second -> in, out, busy, idle, blocked

    @property
    def busy_per_instance(self) -> float:
        return self.busy_s / self.instances if self.instances else 0.0

    def add(self, instance: InstanceRecord) -> None:
        self.instances += 1
        self.items_in += instance.items_in
        self.items_out += instance.items_out
        self.busy_s += instance.busy_s
        self.idle_s += instance.idle_s
        self.blocked_s += instance.blocked_s
        for second, *values in instance.series:
            bucket = self.series.setdefault(second, [0, 0, 0.0, 0.0, 0.0])
            for number, value in enumerate(values):
                bucket[number] += value

    def to_json(self) -> dict[str, Any]:
        return {
            "pe": self.pe,
            "instances": self.instances,
            "items_in": self.items_in,
            "items_out": self.items_out,
            "busy_s": self.busy_s,
            "idle_s": self.idle_s,
            "blocked_s": self.blocked_s,
            "busy_per_instance_s": self.busy_per_instance,
            "series": [[second, *values] for second, values in sorted(self.series.items())],
        }


def totals(run: RunRecord) -> dict[str, PETotals]:
    """Each PE's instances added up, in the graph's order; PEs that reported nothing have zeros."""
    per_pe = {pe["id"]: PETotals(pe["id"]) for pe in run.workflow["graph"]["pes"]}
    for instance in run.instances:
        per_pe.setdefault(instance.pe, PETotals(instance.pe)).add(instance)
    return per_pe


def _feeders(run: RunRecord, pe: str) -> list[str]:
    return sorted({c["from"] for c in run.workflow["graph"]["connections"] if c["to"] == pe and c["from"] != pe})


def bottleneck(run: RunRecord, per_pe: dict[str, PETotals] | None = None) -> dict[str, Any] | None:
    """The PE with the most busy seconds per instance, and how long the PEs feeding it were blocked."""
    per_pe = totals(run) if per_pe is None else per_pe
    candidates = [t for t in per_pe.values() if t.busy_s > 0]
    if not candidates:
        return None
    slowest = max(candidates, key=lambda t: t.busy_per_instance)  # the first in graph order among equals
    feeders = _feeders(run, slowest.pe)
    blocked = sum(per_pe[pe].blocked_s for pe in feeders if pe in per_pe)
    reason = f"{slowest.busy_per_instance:.3f} s busy per instance ({slowest.instances} instance"
    reason += "s)" if slowest.instances != 1 else ")"
    if feeders:
        reason += f"; the PEs feeding it ({', '.join(feeders)}) were blocked {blocked:.3f} s sending"
    return {
        "pe": slowest.pe,
        "busy_per_instance_s": slowest.busy_per_instance,
        "instances": slowest.instances,
        "feeders": feeders,
        "feeders_blocked_s": blocked,
        "reason": reason,
    }


def layers(graph: dict[str, Any]) -> dict[str, int]:
    """Each PE's column when the graph is drawn left to right: the longest path to it from a root."""
    layer = {pe["id"]: 0 for pe in graph["pes"]}
    edges = [(c["from"], c["to"]) for c in graph["connections"] if c["from"] in layer and c["to"] in layer]
    for _ in range(len(layer)):  # a graph is acyclic: a path is at most as long as there are PEs
        changed = False
        for source, target in edges:
            if layer[target] < layer[source] + 1:
                layer[target], changed = layer[source] + 1, True
        if not changed:
            break
    return layer


def matrix(instances: Sequence[InstanceRecord]) -> dict[str, Any] | None:
    """Items and bytes from each instance to each instance, or None when the run recorded none."""
    if not any(instance.sent for instance in instances):
        return None
    senders = [f"{i.pe}[{i.index}]" for i in instances]
    receivers = list(senders)
    cells: dict[tuple[str, str], list[int]] = {}
    for instance in instances:
        for sent in instance.sent:
            target = f"{sent['pe']}[{sent['index']}]"
            if target not in receivers:
                receivers.append(target)
            cell = cells.setdefault((f"{instance.pe}[{instance.index}]", target), [0, 0])
            cell[0] += sent["items"]
            cell[1] += sent["bytes"]
    used_senders = [s for s in senders if any(key[0] == s for key in cells)]
    used_receivers = [r for r in receivers if any(key[1] == r for key in cells)]
    return {
        "senders": used_senders,
        "receivers": used_receivers,
        "cells": [[s, r, items, size] for (s, r), (items, size) in cells.items()],
    }


def analyse(run: RunRecord) -> dict[str, Any]:
    """Everything the run page draws that is not in the record as it stands."""
    per_pe = totals(run)
    seconds = [second[0] for instance in run.instances for second in instance.series]
    return {
        "pes": [t.to_json() for t in per_pe.values()],
        "bottleneck": bottleneck(run, per_pe),
        "layers": layers(run.workflow["graph"]),
        "matrix": matrix(run.instances),
        "first_second": min(seconds, default=None),
        "last_second": max(seconds, default=None),
    }


def compare(first: RunRecord, second: RunRecord) -> dict[str, Any]:
    """Two runs PE by PE, as ``d4py runs diff`` puts them: PEs of A first, then those only in B."""
    a, b = totals(first), totals(second)
    order = list(a) + [pe for pe in b if pe not in a]
    return {
        "a": summary_json(first),
        "b": summary_json(second),
        "same_graph": first.workflow["hash"] == second.workflow["hash"],
        "pes": [
            {"pe": pe, "a": a[pe].to_json() if pe in a else None, "b": b[pe].to_json() if pe in b else None}
            for pe in order
        ],
    }


def summary_json(run: RunRecord | RunSummary) -> dict[str, Any]:
    """A run as the runs list shows it."""
    name = run.workflow["name"] if isinstance(run, RunRecord) else run.workflow
    fields = ("id", "backend", "status", "started", "ended")
    return {"workflow": name, **{key: getattr(run, key) for key in fields}, "duration_s": run.duration_s}


def filter_summaries(
    summaries: Iterable[RunSummary],
    text: str = "",
    workflow: str = "",
    backend: str = "",
    status: str = "",
) -> list[RunSummary]:
    """The runs that match: ``text`` anywhere in id, workflow, backend or status (any case); the rest exactly."""
    needle = text.strip().lower()
    return [
        s
        for s in summaries
        if (not needle or any(needle in value.lower() for value in (s.id, s.workflow, s.backend, s.status)))
        and (not workflow or s.workflow == workflow)
        and (not backend or s.backend == backend)
        and (not status or s.status == status)
    ]
