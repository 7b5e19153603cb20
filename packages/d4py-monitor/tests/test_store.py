"""The store contract, one set of tests for every store: SQLite, MongoDB through mongomock, and a real
MongoDB server when $D4PY_TEST_MONGODB_URL names one."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit, urlunsplit

import mongomock
import pytest

from d4py_monitor.mongodb import MongoStore
from d4py_monitor.record import InstanceRecord, RunRecord
from d4py_monitor.sqlite import SQLiteStore
from d4py_monitor.store import Store, StoreError, default_location

REAL_MONGODB = os.environ.get("D4PY_TEST_MONGODB_URL")
MOCKED = "mongodb://mongo.test:27017/d4py_test"


def run_record(run_id: str, started: float, status: str = "ok", instances: int = 1) -> RunRecord:
    graph = {"pes": [{"id": "P0"}, {"id": "Q1"}], "connections": []}
    workflow = {"name": "w", "source": "/w.py", "attr": None, "hash": "0", "graph": graph}
    run = RunRecord(run_id, workflow, "multi", {"a": 1}, 4, {"P0": 2}, started, started + 2.5, status, None, "h", 7, {})
    run.instances = [
        InstanceRecord("P0", index, "h", 42, index, {"": 2}, {"output": 5}, 0.5, 0.25, 0.125, [(100, 2, 5, 0.5, 0, 0)])
        for index in range(instances)
    ]
    return run


def _real_database_url() -> str:
    """$D4PY_TEST_MONGODB_URL with a database of this test's own, dropped afterwards."""
    assert REAL_MONGODB is not None
    parts = urlsplit(REAL_MONGODB)
    return urlunsplit(parts._replace(path="/d4py_test_" + os.urandom(4).hex()))


@pytest.fixture(params=["sqlite", "mongomock", "mongodb"])
def open_store(request: pytest.FixtureRequest, home) -> Iterator[Callable[[], Store]]:
    """Opens a store of the kind under test; each call a new connection to the same store."""
    if request.param == "sqlite":
        yield lambda: SQLiteStore(default_location())
    elif request.param == "mongomock":
        with mongomock.patch(servers=(("mongo.test", 27017),)):
            yield lambda: MongoStore(MOCKED)
    else:
        if REAL_MONGODB is None:
            pytest.skip("no MongoDB server: set D4PY_TEST_MONGODB_URL=mongodb://HOST:PORT to test against one")
        url = _real_database_url()
        yield lambda: MongoStore(url)
        cleanup = MongoStore(url)
        cleanup.client.drop_database(cleanup.runs.database.name)
        cleanup.close()


@pytest.fixture
def store(open_store) -> Iterator[Store]:
    opened = open_store()
    yield opened
    opened.close()


def test_a_run_round_trips_with_its_instances_and_seconds(store):
    run = run_record("r1", 10.0, instances=2)
    run.error = {"type": "PEFailure", "message": "bad", "pe": "P0", "instance": 1, "item": "{'input': 13}"}
    store.save(run)
    assert store.load("r1") == run
    assert store.load("r1").to_json()["instances"][1]["items_out"] == 5


def test_saving_a_run_again_replaces_its_record(store):
    store.save(run_record("r1", 10.0, status="running", instances=3))
    store.save(run_record("r1", 10.0, status="ok", instances=2))
    (summary,) = store.summaries()
    assert (summary.id, summary.status, summary.duration_s) == ("r1", "ok", 2.5)
    assert [i.index for i in store.load("r1").instances] == [0, 1]  # the earlier record's third is gone


def test_summaries_are_newest_first_and_newest_is_the_last_started(store):
    assert store.summaries() == [] and store.newest() is None
    for run_id, started in (("b2", 20.0), ("a1", 10.0), ("c3", 30.0)):
        store.save(run_record(run_id, started))
    assert [s.id for s in store.summaries()] == ["c3", "b2", "a1"]
    assert store.summaries()[0].workflow == "w" and store.summaries()[0].backend == "multi"
    assert store.newest() == "c3"


def test_ids_are_found_by_prefix_taken_literally(store):
    for run_id in ("abc123", "abd456", "b.c"):
        store.save(run_record(run_id, 1.0))
    assert sorted(store.ids("ab")) == ["abc123", "abd456"]
    assert store.ids("abc") == ["abc123"] and store.ids("abc123") == ["abc123"]
    assert store.ids("a.") == [] and store.ids("b.") == ["b.c"]  # no pattern characters
    assert store.ids("f") == []


def test_an_unknown_run_is_a_store_error(store):
    with pytest.raises(StoreError, match="no run 'nope'"):
        store.load("nope")


def test_runs_saved_at_once_from_several_threads_are_all_kept(open_store):
    threads, each = 4, 10
    start = threading.Barrier(threads)
    failures: list[BaseException] = []

    def save(number: int) -> None:
        store = open_store()
        try:
            start.wait(timeout=60)
            for n in range(each):
                store.save(run_record(f"t{number}-{n}", float(n), status="running"))
                store.save(run_record(f"t{number}-{n}", float(n)))
        except BaseException as error:
            failures.append(error)
        finally:
            store.close()

    workers = [threading.Thread(target=save, args=(number,)) for number in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert failures == []
    reader = open_store()
    summaries = reader.summaries()
    reader.close()
    assert sorted(s.id for s in summaries) == sorted(f"t{t}-{n}" for t in range(threads) for n in range(each))
    assert {s.status for s in summaries} == {"ok"}


def test_bytes_matrix_rows_keys_and_latency_round_trip(store):
    workflow = {"name": "w", "source": None, "attr": None, "hash": "0", "graph": {"pes": [{"id": "A"}, {"id": "B"}]}}
    run = RunRecord("r2", workflow, "multi", {}, None, {}, 10.0, 11.0, "ok", None, "h", 7, {})
    sender = InstanceRecord("A", 0, "h", 1, writes={"output": 4}, bytes_out={"output": 400})
    sender.sent = [{"pe": "B", "index": 0, "items": 4, "bytes": 400}]
    receiver = InstanceRecord("B", 0, "h", 2, reads={"input": 4}, bytes_in={"input": 400})
    receiver.keys = {"input": [("'a'", 3), ("'b'", 1)]}
    receiver.latency = {"samples": 4, "p50_s": 0.001, "p95_s": 0.002, "max_s": 0.003}
    run.instances = [sender, receiver, InstanceRecord("B", 1, "h", 3)]
    store.save(run)
    assert store.load("r2") == run
