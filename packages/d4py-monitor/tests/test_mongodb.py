"""The MongoDB store in use: runs recorded in it, and a server that cannot be reached never failing a run
nor showing its password. mongomock stands in for the server (the contract is in test_store.py)."""

from __future__ import annotations

import logging

import mongomock
import pytest

import d4py
from d4py import UsageError
from d4py.testing.pes import Numbers, Pass
from d4py_monitor.mongodb import MongoStore, check_url
from d4py_monitor.store import StoreError, default_location, open_store

SECRET = "s3cret-pw"


def pipeline() -> d4py.WorkflowGraph:
    graph = d4py.WorkflowGraph()
    graph.connect(Numbers(50), "output", Pass(), "input")
    return graph


def test_a_run_from_python_is_recorded_in_the_store_d4py_monitor_store_names(monkeypatch):
    url = "mongodb://mongo.test:27017/flows"
    monkeypatch.setenv("D4PY_MONITOR_STORE", url)
    with mongomock.patch(servers=(("mongo.test", 27017),)):
        d4py.run(pipeline(), backend="multi", processes=2)
        store = open_store(create=False)
        (summary,) = store.summaries()
        run = store.load(summary.id)
        assert store.runs.database.name == "flows"
        store.close()
    assert (run.status, run.backend) == ("ok", "multi")
    assert sum(i.items_in for i in run.instances) == 51  # the root's call, and 50 items into Pass
    assert not default_location().exists()  # nothing kept locally


def test_an_unreachable_server_is_one_line_without_the_password(dead_port):
    store = MongoStore(f"mongodb://alice:{SECRET}@127.0.0.1:{dead_port}/runs")
    with pytest.raises(StoreError) as raised:
        store.summaries()
    message = str(raised.value)
    assert message.startswith(f"cannot read the run store mongodb://***@127.0.0.1:{dead_port}/runs: ")
    assert "refused" in message and SECRET not in message and "alice" not in message
    assert len(message.splitlines()) == 1 and "Topology" not in message


def test_a_run_whose_server_is_unreachable_is_kept_locally_with_a_warning(monkeypatch, dead_port, caplog, recorded):
    monkeypatch.setenv("D4PY_MONITOR_STORE", f"mongodb://alice:{SECRET}@127.0.0.1:{dead_port}/runs")
    with caplog.at_level(logging.WARNING, logger="d4py_monitor"):
        result = d4py.run(pipeline())
    assert sum(result.counts.values()) == 51
    (warning,) = caplog.records
    text = warning.getMessage()
    assert f"mongodb://***@127.0.0.1:{dead_port}/runs" in text and SECRET not in text
    assert text.endswith(f"this run's record is kept in {default_location()} instead")
    monkeypatch.delenv("D4PY_MONITOR_STORE")
    (run,) = recorded()
    assert run.status == "ok" and run.workflow["graph"]["pes"][0]["name"] == "Numbers"


def test_bad_urls_are_usage_errors_naming_the_option_without_the_password():
    with pytest.raises(UsageError, match=r"^--monitor-store mongodb://\*\*\*@h:x/db: ") as raised:
        check_url(f"mongodb://bob:{SECRET}@h:x/db", "--monitor-store")
    assert SECRET not in str(raised.value)


def test_the_cli_reads_and_writes_the_store_an_option_names(cli, dead_port):
    url = f"mongodb://alice:{SECRET}@127.0.0.1:{dead_port}/runs"
    listed = cli("runs", "list", "--store", url)
    assert listed.returncode == 1 and listed.stderr.startswith("error: cannot read the run store mongodb://***@")
    assert SECRET not in listed.stderr and len(listed.stderr.splitlines()) == 1
    done = cli("run", "--monitor-store", url, "counted.py")
    assert done.returncode == 0 and "KeyCounter3" in done.stdout
    (warning,) = done.stderr.splitlines()
    assert SECRET not in warning and warning.endswith(f"this run's record is kept in {default_location()} instead")
    assert cli("runs", "show", "last").stdout.startswith("run ")  # kept in the local store
