"""The xcorr workflow as one call: waveforms in, correlations, archive and plot out."""

from __future__ import annotations

from pathlib import Path

from d4py import GenericPE, WorkflowGraph
from d4py_seismo.prep import TracePrep
from d4py_seismo.writers import WriteCorrelations
from d4py_seismo.xcorr import CrossCorrelatePairs

__all__ = ["xcorr_graph"]


def xcorr_graph(
    source: GenericPE,
    prep: TracePrep,
    *,
    max_lag_seconds: float = 120.0,
    output_dir: str | Path = "xcorr-results",
    extra_sinks: tuple[GenericPE, ...] = (),
    velocity_km_s: float | None = None,
) -> WorkflowGraph:
    """Connect ``source`` (a PE writing traces) through ``prep`` to every pair's correlation.

    The correlations go to a :class:`WriteCorrelations` in ``output_dir`` and
    to each PE of ``extra_sinks`` (for example a ``CheckLags``);
    ``velocity_km_s``, if known, marks the moveout on the record section.
    """
    graph = WorkflowGraph()
    correlate = CrossCorrelatePairs(max_lag_seconds=max_lag_seconds)
    graph.connect(source, "output", prep, "input")
    graph.connect(prep, "output", correlate, "input")
    graph.connect(correlate, "output", WriteCorrelations(output_dir, velocity_km_s=velocity_km_s), "input")
    for sink in extra_sinks:
        graph.connect(correlate, "output", sink, "input")
    return graph
