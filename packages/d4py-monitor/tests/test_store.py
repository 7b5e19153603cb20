"""The SQLite store: several runs saving at once, and a store that cannot be written never failing a run."""

from __future__ import annotations

import logging
import subprocess
import sys

import d4py
from d4py.testing.pes import Numbers, Pass
from d4py_monitor.record import InstanceRecord, RunRecord
from d4py_monitor.sqlite import SQLiteStore
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


def test_saving_a_run_again_replaces_it(home):
    workflow = {"name": "w", "source": None, "attr": None, "hash": "0", "graph": {"pes": [{"id": "P0"}]}}
    run = RunRecord("r1", workflow, "multi", {}, None, {}, 10.0, 10.0, "running", None, "h", 7, {})
    run.instances = [InstanceRecord("P0", 0, "h", 1, reads={"input": 1}, series=[(10, 1, 0, 0.1, 0, 0)])]
    store = SQLiteStore(default_location())
    store.save(run)
    run.status, run.ended = "ok", 12.0
    run.instances = [
        InstanceRecord("P0", 0, "h", 1, reads={"input": 5}, series=[(10, 1, 0, 0.1, 0, 0), (11, 4, 0, 0.2, 0, 0)]),
        InstanceRecord("P0", 1, "h", 2, reads={"input": 2}),
    ]
    store.save(run)
    assert [(s.id, s.status, s.ended) for s in store.summaries()] == [("r1", "ok", 12.0)]
    assert store.load("r1") == run
    store.close()


def test_bytes_matrix_rows_keys_and_latency_round_trip(home):
    workflow = {"name": "w", "source": None, "attr": None, "hash": "0", "graph": {"pes": [{"id": "A"}, {"id": "B"}]}}
    run = RunRecord("r2", workflow, "multi", {}, None, {}, 10.0, 11.0, "ok", None, "h", 7, {})
    sender = InstanceRecord("A", 0, "h", 1, writes={"output": 4}, bytes_out={"output": 400})
    sender.sent = [{"pe": "B", "index": 0, "items": 4, "bytes": 400}]
    receiver = InstanceRecord("B", 0, "h", 2, reads={"input": 4}, bytes_in={"input": 400})
    receiver.keys = {"input": [("'a'", 3), ("'b'", 1)]}
    receiver.latency = {"samples": 4, "p50_s": 0.001, "p95_s": 0.002, "max_s": 0.003}
    run.instances = [sender, receiver, InstanceRecord("B", 1, "h", 3)]
    store = SQLiteStore(default_location())
    store.save(run)
    assert store.load("r2") == run
    store.close()
