"""Workers report their counts while the run goes on, for progress displays in the driver."""

from __future__ import annotations

from d4py import WorkflowGraph, hookimpl, run
from d4py.plugins import make_plugin_manager
from d4py.testing.pes import Numbers, Pass


class Recorder:
    def __init__(self) -> None:
        self.reports: list[dict[str, int]] = []

    @hookimpl
    def d4py_run_progress(self, counts: dict[str, int]) -> None:
        self.reports.append(counts)


def test_every_worker_reports_its_counts_before_the_run_ends() -> None:
    graph = WorkflowGraph()
    source, middle, sink = Numbers(5000), Pass(), Pass()
    graph.connect(source, "output", middle, "input")
    graph.connect(middle, "output", sink, "input")
    graph.partitions = [[source], [middle], [sink]]
    recorder, manager = Recorder(), make_plugin_manager()
    manager.register(recorder)
    # progress_ms=0: a report after every batch, so each worker reports at least once.
    result = run(graph, backend="multi", options=["progress_ms=0"], plugin_manager=manager)
    assert recorder.reports, "no progress was reported"
    for pe_id in result.counts:
        seen = [report[pe_id] for report in recorder.reports]
        assert seen == sorted(seen), f"{pe_id}'s count went down: {seen}"
        assert 0 < seen[-1] <= result.counts[pe_id]
    assert set(recorder.reports[-1]) == set(result.counts)
