"""Real traced runs for the provenance export tests: a workflow run as a script, recorded by d4py-monitor.

A workflow file in ``workflows/`` run as ``python FILE OUT`` (with this folder
on ``PYTHONPATH``) calls :func:`record_traced`: the run is traced by
``LineageWatch`` and recorded by d4py-monitor, which names the script as the
workflow's source, as it does for any run started from a script.
``OUT`` then holds the stored run record and the lineage, as JSON.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import d4py
from d4py import PEFailure, WorkflowGraph
from d4py.inputs import RunInput
from d4py.lineage import RUN_INPUT
from d4py.testing.observing import LineageWatch
from d4py_monitor.prov.model import Failure, ItemRecord, RunLineage, preview
from d4py_monitor.record import RunRecord
from d4py_monitor.store import open_store

WORKFLOWS = Path(__file__).parent / "workflows"


def lineage_from_watch(run_id: str, watch: LineageWatch) -> RunLineage:
    """The lineage ``watch`` kept of run ``run_id``, as d4py-monitor stores it."""
    items = {
        item_id: ItemRecord(
            item_id,
            pe,
            RUN_INPUT if port == "" else index,
            port,
            tuple(parents),
            "" if port is None else preview(item),
            output=(pe, port) in watch.unconnected,
        )
        for item_id, (pe, index, (_, port, parents, item)) in watch.records.items()
    }
    failures = [Failure(pe, index, tuple(inputs), preview(value)) for pe, index, (inputs, value) in watch.failed]
    return RunLineage(run_id, "full" if watch.share >= 1 else "sampled", watch.share, items, failures)


def record_traced(graph: WorkflowGraph, out: str, inputs: RunInput = None, share: float = 1.0) -> None:
    """Run ``graph`` on simple, tracing ``share`` of its chains; write the run record and lineage to ``out``."""
    watch = LineageWatch(share)
    with contextlib.suppress(PEFailure):  # a failed run is recorded, with its lineage up to the failure
        d4py.run(graph, inputs, plugins=[watch])
    store = open_store(create=False)
    try:
        run = store.load(store.summaries()[0].id)
    finally:
        store.close()
    lineage = lineage_from_watch(run.id, watch)
    Path(out).write_text(json.dumps({"run": run.to_json(), "lineage": lineage.to_json()}))


def run_script(name: str, folder: Path, *args: str) -> tuple[RunRecord, RunLineage]:
    """Run ``workflows/NAME`` as a script (with ``args`` after its output file) with $D4PY_HOME in ``folder``."""
    out = folder / "traced.json"
    env = {**os.environ, "D4PY_HOME": str(folder / "home"), "PYTHONPATH": str(Path(__file__).parent)}
    done = subprocess.run(
        [sys.executable, str(WORKFLOWS / name), str(out), *args], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, done.stderr
    document = json.loads(out.read_text())
    return RunRecord.from_json(document["run"]), RunLineage.from_json(document["lineage"])


_traced: dict[tuple[str, ...], tuple[RunRecord, RunLineage]] = {}


def traced_run(name: str, tmp_path_factory: pytest.TempPathFactory, *args: str) -> tuple[RunRecord, RunLineage]:
    """:func:`run_script` once per session, workflow and arguments; later calls share its run."""
    if (name, *args) not in _traced:
        _traced[(name, *args)] = run_script(name, tmp_path_factory.mktemp(Path(name).stem), *args)
    return _traced[(name, *args)]
