"""A run's records saved while it runs: the first as it starts, more as it changes, the final one at its end,
and all of them in the local store once the target has failed."""

from __future__ import annotations

import dataclasses
import logging
import queue

from d4py_monitor.publisher import Publisher
from d4py_monitor.record import RunRecord
from d4py_monitor.sqlite import SQLiteStore
from d4py_monitor.store import StoreError, default_location

WORKFLOW = {"name": "w", "source": None, "attr": None, "hash": "0", "graph": {"pes": [], "connections": []}}


class Saves(SQLiteStore):
    """The local store, telling the test what it saved."""

    saved: queue.Queue[RunRecord] = queue.Queue()

    def save(self, run: RunRecord) -> None:
        super().save(run)
        self.saved.put(run)


class Unreachable:
    """A target that refuses every record, as a collector nobody runs would."""

    location = "tcp://nowhere:1"

    def save(self, run: RunRecord) -> None:
        raise StoreError("no collector took the record at tcp://nowhere:1")

    def close(self) -> None:
        pass


class Run:
    """A run whose record changes: each snapshot counts one more item."""

    def __init__(self) -> None:
        self.record = RunRecord("r1", WORKFLOW, "simple", {}, None, {}, 1.0, 1.0, "running", None, "h", 1, {})
        self.snapshots = 0

    def snapshot(self) -> RunRecord:
        self.snapshots += 1
        return dataclasses.replace(self.record, counts={"P0": self.snapshots})


def stored(run_id: str) -> RunRecord:
    store = SQLiteStore(default_location(), create=False)
    try:
        return store.load(run_id)
    finally:
        store.close()


def test_a_run_is_saved_as_it_starts_as_it_changes_and_as_it_ends(home):
    run, saved = Run(), Saves.saved
    publisher = Publisher(run.snapshot, lambda: Saves(default_location()), local=True)
    publisher.start()
    assert (saved.get(timeout=60).status, stored("r1").status) == ("running", "running")
    publisher.changed()
    assert saved.get(timeout=60).counts == {"P0": 2}
    assert stored("r1").counts == {"P0": 2}  # replaced, not added
    publisher.finish(dataclasses.replace(run.record, status="ok", ended=3.0))
    assert saved.get(timeout=60).status == "ok"
    assert stored("r1").status == "ok" and stored("r1").duration_s == 2.0
    assert not publisher.thread.is_alive()


def test_a_target_that_fails_is_given_up_for_the_local_store_with_one_warning(home, caplog):
    run = Run()
    publisher = Publisher(run.snapshot, Unreachable, local=False)
    with caplog.at_level(logging.WARNING, logger="d4py_monitor"):
        publisher.start()
        publisher.changed()
        publisher.finish(dataclasses.replace(run.record, status="failed"))
    (warning,) = caplog.records
    assert warning.getMessage() == (
        "d4py-monitor: no collector took the record at tcp://nowhere:1; "
        f"this run's record is kept in {default_location()} instead"
    )
    assert stored("r1").status == "failed"


def test_a_process_that_never_started_publishing_saves_its_final_record(home):
    run = Run()
    publisher = Publisher(run.snapshot, lambda: SQLiteStore(default_location()), local=True)
    publisher.finish(dataclasses.replace(run.record, status="ok"))
    assert stored("r1").status == "ok" and run.snapshots == 0  # no live record: the final one only
