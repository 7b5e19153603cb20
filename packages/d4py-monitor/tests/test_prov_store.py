"""Provenance in the stores: kept beside the run, read back whole, searched by metadata; SQLite and MongoDB
(mongomock), from the Python API; a store that refuses it warns once and the run goes on."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable, Iterator

import mongomock
import pytest

import d4py
from d4py import UsageError
from d4py.testing.pes import Lines, SplitWords, WordCounter
from d4py_monitor.mongodb import MongoStore
from d4py_monitor.prov import Provenance
from d4py_monitor.prov.model import Failure, ItemRecord, RunLineage
from d4py_monitor.sqlite import SCHEMA_VERSION, SQLiteStore
from d4py_monitor.store import Store, default_location, open_store

MOCKED = "mongodb://mongo.test:27017/d4py_test"
LINES = ["a dog", "a cat", "dog days"]


def word_count() -> tuple[d4py.WorkflowGraph, Lines, SplitWords, WordCounter]:
    graph = d4py.WorkflowGraph()
    lines, split, counter = Lines(LINES), SplitWords(), WordCounter(numprocesses=2)
    graph.connect(lines, "output", split, "input")
    graph.connect(split, "output", counter, "input")
    return graph, lines, split, counter


def lineage(run_id: str) -> RunLineage:
    items = [
        ItemRecord(3, "Lines0", 0, "output", (1,), "'a dog'"),
        ItemRecord(5, "Count2", 1, "output", (3,), "('dog', 1)", True, {"word": "dog", "count": 1, "ok": True}),
        ItemRecord(7, "Count2", 1, None, (3, 5), ""),
        ItemRecord(1, "Lines0", -1, "", (), "{}"),
    ]
    failures = [Failure("Count2", 1, (3,), "{'input': ('dog', 1)}", "ValueError: no")]
    return RunLineage(run_id, "full", 1.0, {item.id: item for item in items}, failures)


@pytest.fixture(params=["sqlite", "mongomock"])
def opened(request: pytest.FixtureRequest) -> Iterator[Callable[[], Store]]:
    if request.param == "sqlite":
        yield lambda: SQLiteStore(default_location())
    else:
        with mongomock.patch(servers=(("mongo.test", 27017),)):
            yield lambda: MongoStore(MOCKED)


def test_lineage_round_trips_is_replaced_and_is_searched(opened, save_run):
    store = opened()
    for run_id, started in (("r1", 10.0), ("r2", 20.0)):
        store.save(save_run(run_id, started=started))
        store.save_lineage(lineage(run_id))
    assert opened().load_lineage("r1") == lineage("r1")
    assert store.load_lineage("r3") is None
    assert [(run, item.id) for run, item in store.search_items("word", "dog")] == [("r1", 5), ("r2", 5)]
    assert [run for run, _ in store.search_items("count", "1", "r2")] == ["r2"]
    assert [run for run, _ in store.search_items("ok", "true")] == ["r1", "r2"]  # JSON for what is not text
    assert store.search_items("word", "cat") == []
    smaller = lineage("r1")
    del smaller.items[5]
    store.save_lineage(smaller)  # saved again: replaced, metadata included
    assert store.load_lineage("r1") == smaller
    assert [run for run, _ in store.search_items("word", "dog")] == ["r2"]
    store.close()


def test_a_run_from_python_keeps_its_lineage_with_the_provenance_plugin(recorded):
    graph, lines, _, counter = word_count()
    result = d4py.run(graph, backend="multi", processes=3, plugins=[Provenance("full")])
    (run,) = recorded()
    store = open_store(create=False)
    kept = store.load_lineage(run.id)
    store.close()
    assert kept is not None and sorted(o.value for o in kept.outputs()) == sorted(
        repr(item) for item in result.output(counter.id)
    )
    (dog,) = [entry for entry in kept.explain() if entry["item"] == repr(("dog", 2))]
    assert dog["roots"] == [{"pe": lines.id, "item": "'a dog'"}, {"pe": lines.id, "item": "'dog days'"}]


def test_a_run_from_python_keeps_its_lineage_in_mongodb(monkeypatch):
    monkeypatch.setenv("D4PY_MONITOR_STORE", MOCKED)
    with mongomock.patch(servers=(("mongo.test", 27017),)):
        graph, _, split, _ = word_count()
        d4py.run(graph, plugins=[Provenance("full", select=["WordCounter"])])
        store = MongoStore(MOCKED)
        (summary,) = store.summaries()
        kept = store.load_lineage(summary.id)
        store.close()
    assert kept is not None and len(kept.outputs()) == 4
    assert {item.value for item in kept.items.values() if item.pe == split.id} == {""}  # not selected
    assert not default_location().exists()


def test_provenance_needs_the_run_recorded(monkeypatch):
    monkeypatch.setenv("D4PY_MONITOR", "off")
    with pytest.raises(UsageError, match="D4PY_MONITOR=off records none"):
        d4py.run(word_count()[0], plugins=[Provenance("full")])
    with pytest.raises(UsageError, match="provenance level 'all'"):
        Provenance("all")
    with pytest.raises(UsageError, match="share is for level 'sampled', not 'full'"):
        Provenance("full", share=0.5)


def test_a_store_that_refuses_provenance_warns_once_and_the_run_goes_on(caplog, recorded):
    d4py.run(word_count()[0])  # makes the store
    with sqlite3.connect(default_location()) as db:  # as a full disk would: the write fails
        db.execute(
            "CREATE TRIGGER full BEFORE INSERT ON item_batches"
            " BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"
        )
    with caplog.at_level(logging.WARNING, logger="d4py_monitor"):
        result = d4py.run(word_count()[0], backend="multi", processes=2, plugins=[Provenance("full")])
    assert len(result.output("WordCounter")) == 4
    (warning,) = caplog.records
    assert "the provenance of run" in warning.getMessage() and "database or disk is full" in warning.getMessage()
    newest = recorded()[0]
    assert newest.status == "ok"
    store = open_store(create=False)
    assert store.load_lineage(newest.id) is None  # all of it or nothing
    store.close()


def test_an_unwritable_home_warns_once_with_provenance_on(tmp_path, monkeypatch, caplog):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("D4PY_HOME", str(blocker / "d4py"))
    with caplog.at_level(logging.WARNING, logger="d4py_monitor"):
        result = d4py.run(word_count()[0], plugins=[Provenance("sampled", share=0.5)])
    assert len(result.output("WordCounter")) == 4
    (warning,) = caplog.records
    assert "this run was not recorded" in warning.getMessage()


def test_a_store_of_schema_2_gains_the_provenance_tables_and_keeps_its_runs(save_run):
    save_run("old")
    with sqlite3.connect(default_location()) as db:
        for table in ("lineage", "item_batches", "item_metadata"):
            db.execute(f"DROP TABLE {table}")
        db.execute("PRAGMA user_version = 2")
    store = SQLiteStore(default_location())
    assert store.load("old").id == "old" and store.load_lineage("old") is None
    store.save_lineage(lineage("old"))
    assert store.load_lineage("old") == lineage("old")
    assert store.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    store.close()


def test_a_store_of_schema_3_has_its_items_put_in_batches(save_run):
    save_run("old")
    with sqlite3.connect(default_location()) as db:  # as schema 3 kept them: one item a row
        db.execute("DROP TABLE item_batches")
        db.execute(
            "CREATE TABLE items (run_id TEXT NOT NULL, id INTEGER NOT NULL, pe TEXT NOT NULL,"
            " instance INTEGER NOT NULL, port TEXT, parents TEXT NOT NULL, value TEXT NOT NULL,"
            " output INTEGER NOT NULL, metadata TEXT NOT NULL, PRIMARY KEY (run_id, id))"
        )
        for item in lineage("old").items.values():
            parents, metadata = " ".join(map(str, item.parents)), json.dumps(item.metadata)
            row = ("old", item.id, item.pe, item.instance, item.port, parents, item.value, item.output, metadata)
            db.execute("INSERT INTO items VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
        db.execute(
            "INSERT INTO lineage VALUES ('old', 'full', 1.0, ?)",
            (json.dumps([f.to_json() for f in lineage("old").failures]),),
        )
        db.execute("PRAGMA user_version = 3")
    store = SQLiteStore(default_location())
    assert store.load_lineage("old") == lineage("old")
    assert store.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert not store.db.execute("SELECT name FROM sqlite_master WHERE name = 'items'").fetchall()
    store.close()


def test_a_large_lineage_is_kept_in_batches_and_read_back_whole(opened, save_run):
    store = opened()
    store.save(save_run("big"))
    items = {
        (n << 1) | 1: ItemRecord((n << 1) | 1, "Count2", 0, "output", ((n << 1) - 1,) if n > 1 else (), str(n), True)
        for n in range(1, 25_001)
    }
    described = items[4_001]
    items[4_001] = ItemRecord(described.id, "Count2", 0, "output", described.parents, "2000", True, {"word": "dog"})
    store.save_lineage(RunLineage("big", "full", 1.0, items))
    kept = opened().load_lineage("big")
    assert kept is not None and kept.items == items
    assert [(run, item.value) for run, item in store.search_items("word", "dog")] == [("big", "2000")]
    store.close()
