"""load(): a registered PE, function or workflow, imported from its checked source."""

import sqlite3

import pytest
from conftest import WORKFLOWS

import d4py
import d4py_registry
from d4py_registry.describe import describe
from d4py_registry.errors import HashMismatch
from d4py_registry.sqlite import SQLiteStore


@pytest.fixture
def registered():
    found = describe(str(WORKFLOWS / "textstats.py"), version="1.0")
    store = SQLiteStore()
    store.add(found.entries, found.source)
    store.close()
    return found


def test_a_loaded_pe_runs_like_the_original(registered):
    split_words = d4py_registry.load("textstats.SplitWords", version="1.0")
    graph = d4py.WorkflowGraph()
    split = split_words()
    graph.add(split)
    result = d4py.run(graph, {split.id: [{"text": "to be or not"}]})
    assert result.outputs[split.id]["pairs"] == [("to", 1), ("be", 1), ("or", 1), ("not", 1)]


def test_functions_and_workflows_load_too(registered):
    assert d4py_registry.load("textstats.shout")("hi") == "HI"
    graph = d4py_registry.load("textstats.graph@1.0")
    assert isinstance(graph, d4py.WorkflowGraph)
    outputs = d4py.run(graph).outputs
    items = [item for ports in outputs.values() for port in ports.values() for item in port]
    assert sorted(items, key=str) == [3, 3, 3, 3, "THE CAT SAT", "THE DOG SAT"]


def test_a_source_changed_in_the_store_is_refused(registered, home):
    with sqlite3.connect(home / "registry.sqlite") as db:
        (source,) = db.execute("SELECT source FROM sources").fetchone()
        db.execute("UPDATE sources SET source = ?", (source + b"\nimport os\n",))
    with pytest.raises(HashMismatch, match="does not match its sha256"):
        d4py_registry.load("textstats.SplitWords")


def test_a_pinned_hash_must_match(registered):
    with pytest.raises(HashMismatch, match="not the 0000 asked for"):
        d4py_registry.load("textstats.SplitWords", sha256="0000")
    assert d4py_registry.load("textstats.SplitWords", sha256=registered.entries[0].sha256).__name__ == "SplitWords"


def test_a_loaded_workflow_runs_on_a_parallel_backend_whose_workers_import_it_by_name(registered):
    pytest.importorskip("d4py_multi", reason="d4py-multi is a test companion (nox installs it)")
    graph = d4py_registry.load("textstats.graph")
    on_simple, on_multi = d4py.run(graph, 2), d4py.run(graph, 2, backend="multi", options=["start_method=spawn"])
    assert on_multi.outputs.keys() == on_simple.outputs.keys()
    for pe, ports in on_simple.outputs.items():
        assert sorted(on_multi.outputs[pe]["output"], key=repr) == sorted(ports["output"], key=repr)
