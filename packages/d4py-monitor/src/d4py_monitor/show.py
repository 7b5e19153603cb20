"""Runs as text lines: the list, one run instance by instance, two runs side by side."""

from __future__ import annotations

import time
from collections.abc import Sequence

from d4py_monitor.record import InstanceRecord, RunRecord, RunSummary

__all__ = ["diff_lines", "run_lines", "summary_lines", "table"]


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    """Aligned columns: text to the left, numbers to the right."""
    cells = [list(header)] + [[_cell(value) for value in row] for row in rows]
    widths = [max(len(row[column]) for row in cells) for column in range(len(header))]
    numeric = [_numeric([row[column] for row in rows]) for column in range(len(header))]
    return [
        "  ".join(
            text.rjust(width) if right else text.ljust(width)
            for text, width, right in zip(row, widths, numeric, strict=True)
        ).rstrip()
        for row in cells
    ]


def _numeric(values: list[object]) -> bool:
    numbers = [value for value in values if value is not None]
    return bool(numbers) and all(isinstance(value, (int, float)) for value in numbers)


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    return "-" if value is None else str(value)


def when(seconds: float) -> str:
    """A moment as local date and time, to the second."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(seconds))


def summary_lines(summaries: Sequence[RunSummary]) -> list[str]:
    rows = [(s.id, s.workflow, s.backend, s.status, when(s.started), s.duration_s) for s in summaries]
    return table(("id", "workflow", "backend", "status", "started", "seconds"), rows)


def run_lines(run: RunRecord) -> list[str]:
    """The run's facts, its error, then a row per instance."""
    workflow = run.workflow
    processes = len({(i.host, i.pid) for i in run.instances}) or "-"
    budget = f", at most {run.processes} by -n" if run.processes is not None else ""
    options = " ".join(f"{key}={value}" for key, value in run.options.items()) or "none"
    lines = [
        f"run {run.id}: {workflow['name']} on {run.backend}, {run.status}",
        f"  workflow   {workflow['source'] or '-'} (graph {workflow['hash']})",
        f"  started    {when(run.started)}, {run.duration_s:.3f} s",
        f"  processes  {processes}{budget}; driver pid {run.pid} on {run.host}",
        f"  options    {options}",
    ]
    if run.error is not None:
        lines.append(f"  error      {run.error['type']}: {run.error['message']}")
        lines.extend("    " + line for line in run.error.get("traceback", "").rstrip().splitlines())
    lines.append("")
    if not run.instances:  # a run that failed before any instance had reported (they report once a second)
        return [*lines, "no instance reported before the run ended"]
    lines.extend(table(_INSTANCE_HEADER, [_instance_row(i) for i in run.instances]))
    sent = [
        (f"{i.pe}[{i.index}]", f"{c['pe']}[{c['index']}]", c["items"], c["bytes"])
        for i in run.instances
        for c in i.sent
    ]
    if sent:
        lines.extend(["", *table(("from", "to", "items", "bytes"), sent)])
    keys = [(f"{i.pe}[{i.index}]", port, top) for i in run.instances for port, top in i.keys.items() if top]
    if keys:
        lines.extend(["", "most frequent group keys"])
        lines.extend(
            f"  {where} {port}: " + ", ".join(f"{key} {count}" for key, count in top) for where, port, top in keys
        )
    return lines


_INSTANCE_HEADER = ("instance", "process", "pid", "host", "items in", "items out", "busy s", "idle s", "blocked s")


def _instance_row(i: InstanceRecord) -> tuple[object, ...]:
    return (f"{i.pe}[{i.index}]", i.process, i.pid, i.host, i.items_in, i.items_out, *i.times())


def diff_lines(first: RunRecord, second: RunRecord) -> list[str]:
    """Per PE, items in and out and busy seconds of two runs, side by side (A, then B)."""
    lines = [
        f"A: run {first.id}, {first.workflow['name']} on {first.backend}, {first.status}, {first.duration_s:.3f} s",
        f"B: run {second.id}, {second.workflow['name']} on {second.backend}, {second.status}, "
        f"{second.duration_s:.3f} s",
    ]
    if first.workflow["hash"] != second.workflow["hash"]:
        lines.append("the graphs differ: PEs only in one run show '-' in the other")
    a, b = _per_pe(first), _per_pe(second)
    order = list(a) + [pe for pe in b if pe not in a]
    rows = [(pe, *_side_by_side(a.get(pe), b.get(pe))) for pe in order]
    header = ("pe", "instances A", "B", "items in A", "B", "items out A", "B", "busy s A", "B")
    return [*lines, "", *table(header, rows)]


def _per_pe(run: RunRecord) -> dict[str, tuple[int, int, int, float]]:
    """Instances, items in, items out and busy seconds of each PE, in the run's plan order."""
    totals: dict[str, tuple[int, int, int, float]] = {}
    for i in run.instances:
        count, items_in, items_out, busy = totals.get(i.pe, (0, 0, 0, 0.0))
        totals[i.pe] = (count + 1, items_in + i.items_in, items_out + i.items_out, busy + i.busy_s)
    return totals


def _side_by_side(a: tuple[object, ...] | None, b: tuple[object, ...] | None) -> list[object]:
    return [value for pair in zip(a or (None,) * 4, b or (None,) * 4, strict=True) for value in pair]
