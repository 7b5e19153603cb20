"""The SQLite store: several processes saving at once, and a store that cannot be written never failing a run."""

from __future__ import annotations

import logging
import sqlite3
import subprocess
import sys

import d4py
from d4py.testing.pes import Numbers, Pass
from d4py_monitor.record import InstanceRecord, RunRecord
from d4py_monitor.sqlite import SCHEMA_VERSION, SQLiteStore
from d4py_monitor.store import StoreError, default_location

WRITERS, RUNS_EACH = 4, 50

# Each writer process saves RUNS_EACH runs of its own, each with an instance and a few seconds. Writers
# start together, on a line from the test, once all have imported what they need; the first run of each
# finds no store yet, so they also race to create it.
WRITER = """
import sys
from d4py_monitor.record import InstanceRecord, RunRecord
from d4py_monitor.store import open_store

name = sys.argv[1]
print("ready", flush=True)
sys.stdin.readline()
graph = {"pes": [{"id": "P0"}], "connections": []}
for number in range(RUNS_EACH):
    store = open_store(create=True)
    series = [(s, number, 0, 0.1, 0.0, 0.0) for s in range(3)]
    instance = InstanceRecord("P0", 0, "h", 1, reads={"input": number}, series=series)
    workflow = {"name": name, "source": None, "attr": None, "hash": "0", "graph": graph}
    run = RunRecord(f"{name}-{number}", workflow, "simple", {}, None, {}, number, number + 1, "ok", None, "h", 1, {})
    run.instances = [instance]
    store.save(run)
    store.close()
""".replace("RUNS_EACH", str(RUNS_EACH))


def test_concurrent_writers_in_separate_processes_lose_nothing(home):
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, f"writer{number}"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for number in range(WRITERS)
    ]
    assert [writer.stdout.readline() for writer in writers] == ["ready\n"] * WRITERS  # type: ignore[union-attr]
    for writer in writers:
        assert writer.stdin is not None
        writer.stdin.write("go\n")
        writer.stdin.flush()
    errors = [writer.communicate(timeout=120)[1] for writer in writers]
    assert [writer.returncode for writer in writers] == [0] * WRITERS, errors
    store = SQLiteStore(default_location(), create=False)
    summaries = store.summaries()
    assert len(summaries) == WRITERS * RUNS_EACH
    assert {summary.id for summary in summaries} == {f"writer{w}-{n}" for w in range(WRITERS) for n in range(RUNS_EACH)}
    run = store.load("writer2-7")
    assert run.instances[0].reads == {"input": 7} and len(run.instances[0].series) == 3
    assert store.db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    store.close()
    assert [path.name for path in home.iterdir() if path.name.endswith(".partial")] == []


def test_a_run_round_trips_through_the_store(home):
    instance = InstanceRecord(
        "P0", 1, "host", 42, 3, {"": 2}, {"output": 5}, 0.5, 0.25, 0.125, [(100, 2, 5, 0.5, 0, 0)]
    )
    workflow = {"name": "w", "source": "/w.py", "attr": None, "hash": "0", "graph": {"pes": [{"id": "P0"}]}}
    run = RunRecord("r1", workflow, "multi", {"a": 1}, 4, {"P0": 2}, 10.0, 12.5, "ok", None, "host", 7, {"d4py": "0"})
    run.instances = [instance]
    store = SQLiteStore(default_location())
    store.save(run)
    assert store.load("r1") == run
    assert store.load("r1").to_json()["instances"][0]["items_out"] == 5
    store.close()


def test_an_unwritable_home_warns_once_and_the_run_goes_on(home, tmp_path, monkeypatch, caplog):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("D4PY_HOME", str(blocker / "d4py"))  # under a file: no one can make it, root included
    graph = d4py.WorkflowGraph()
    graph.connect(Numbers(5), "output", Pass(), "input")
    with caplog.at_level(logging.WARNING, logger="d4py_monitor"):
        result = d4py.run(graph, backend="multi", processes=2)
    assert sum(len(items) for ports in result.outputs.values() for items in ports.values()) == 5
    (warning,) = caplog.records
    assert "this run was not recorded" in warning.getMessage() and "a-file" in warning.getMessage()


def test_reading_a_missing_store_says_no_run_was_recorded(home):
    try:
        SQLiteStore(default_location(), create=False)
    except StoreError as error:
        assert "no runs recorded yet" in str(error)
    else:
        raise AssertionError("a missing store opened")
    assert not home.exists()  # reading creates nothing


def test_a_store_of_the_first_schema_is_upgraded_and_keeps_its_runs(tmp_path):
    path = tmp_path / "runs.sqlite"
    store = SQLiteStore(path)
    store.db.execute("ALTER TABLE instances DROP COLUMN traffic")
    store.db.execute("PRAGMA user_version = 1")
    store.db.execute(
        "INSERT INTO runs VALUES ('abc', 'old', 'simple', 'ok', 1.0, 2.0, ?)",
        (
            '{"id": "abc", "workflow": {"name": "old", "graph": {"pes": []}}, "backend": "simple", "options": {}, '
            '"processes": null, "inputs": {}, "started": 1.0, "ended": 2.0, "status": "ok", "error": null, '
            '"host": "h", "pid": 1, "versions": {}}',
        ),
    )
    store.db.execute(
        "INSERT INTO instances VALUES ('abc', 'A0', 0, 0, 'h', 1, 1, 2, '{\"\": 1}', '{\"output\": 2}', 0.1, 0, 0)"
    )
    store.close()
    upgraded = SQLiteStore(path)
    (instance,) = upgraded.load("abc").instances
    assert (instance.items_out, instance.sent, instance.bytes_out) == (2, [], {})
    assert upgraded.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    upgraded.close()
    assert sqlite3.connect(path).execute("SELECT traffic FROM instances").fetchone() == ("{}",)
