"""``d4py run`` records, ``d4py runs`` shows: the command line as a user types it, in subprocesses."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from d4py_monitor.record import RunRecord
from d4py_monitor.sqlite import SQLiteStore
from d4py_monitor.store import default_location

WORKFLOWS = Path(__file__).parent / "workflows"
INSTANCE_KEYS = {"pe", "index", "process", "items_in", "items_out", "busy_s", "idle_s", "blocked_s"}


def ok(done):
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("backend", ["simple", "multi", "mpi"])
def test_d4py_run_is_recorded_and_shown_per_instance(cli, backend):
    ok(cli("run", "-b", backend, "-n", "4", "counted.py"))
    (listed,) = json.loads(ok(cli("runs", "list", "--json")))
    assert listed["workflow"] == "counted" and listed["backend"] == backend and listed["status"] == "ok"
    assert listed["duration_s"] >= 0
    shown = json.loads(ok(cli("runs", "show", "last", "--json")))
    assert shown["id"] == listed["id"] and shown["error"] is None
    assert shown["workflow"]["source"] == str(WORKFLOWS / "counted.py")
    assert all(set(instance) >= INSTANCE_KEYS for instance in shown["instances"])
    items_in: dict[str, int] = {}
    for instance in shown["instances"]:
        items_in[instance["pe"]] = items_in.get(instance["pe"], 0) + instance["items_in"]
    assert list(items_in.values()) == [1, 300, 300, 300]  # each PE saw every item, whatever its instances


def test_a_job_started_with_mpiexec_is_recorded_once_by_rank_0(cli):
    mpiexec = Path(sys.executable).parent / "mpiexec"
    command = [str(mpiexec), "-n", "5", sys.executable, "-m", "d4py", "run", "-b", "mpi", "counted.py"]
    done = subprocess.run(command, capture_output=True, text=True, cwd=WORKFLOWS, env=os.environ, timeout=300)
    assert done.returncode == 0, done.stderr
    (listed,) = json.loads(ok(cli("runs", "list", "--json")))  # the other ranks leave run() unrecorded
    shown = json.loads(ok(cli("runs", "show", listed["id"], "--json")))
    assert shown["backend"] == "mpi" and shown["processes"] == 4
    assert sum(i["items_in"] for i in shown["instances"] if i["pe"] == "KeyCounter3") == 300


def test_runs_started_together_are_all_recorded(cli):
    command = [sys.executable, "-m", "d4py", "run", "-b", "multi", "-n", "2", "counted.py"]
    runs = [subprocess.Popen(command, cwd=WORKFLOWS, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for _ in "abc"]
    assert [run.communicate(timeout=300)[1] for run in runs] == [b""] * 3  # no warning: every run was recorded
    listed = json.loads(ok(cli("runs", "list", "--json")))
    assert [run["status"] for run in listed] == ["ok"] * 3 and len({run["id"] for run in listed}) == 3


def test_list_and_show_as_text(cli):
    ok(cli("run", "counted.py"))
    ok(cli("run", "-b", "multi", "counted.py"))
    lines = ok(cli("runs", "list")).splitlines()
    assert lines[0].split() == ["id", "workflow", "backend", "status", "started", "seconds"]
    assert [line.split()[2] for line in lines[1:]] == ["multi", "simple"]  # newest first
    newest = lines[1].split()[0]
    shown = ok(cli("runs", "show", newest[:6]))
    assert shown.startswith(f"run {newest}: counted on multi, ok")
    assert "items in" in shown and "KeyCounter3[2]" in shown


def test_diff_puts_two_runs_side_by_side_per_pe(cli):
    ok(cli("run", "counted.py"))
    ok(cli("run", "-b", "multi", "counted.py"))
    second, first = (run["id"] for run in json.loads(ok(cli("runs", "list", "--json"))))
    lines = ok(cli("runs", "diff", first, second)).splitlines()
    assert lines[0].startswith(f"A: run {first}, counted on simple") and lines[1].startswith(f"B: run {second}")
    rows = {line.split()[0]: line.split()[1:] for line in lines[4:]}
    assert rows["Pass1"][2:6] == ["300", "300", "300", "300"]  # items in A, B; items out A, B


def test_a_failed_run_names_its_pe_and_item(cli):
    failed = cli("run", "fails.py")
    assert failed.returncode == 1
    shown = json.loads(ok(cli("runs", "show", "last", "--json")))
    assert shown["status"] == "failed"
    assert (shown["error"]["pe"], shown["error"]["instance"], shown["error"]["item"]) == ("Fails2", 0, "{'input': 13}")
    assert "cannot handle 13" in ok(cli("runs", "show", "last"))


def test_no_monitor_records_nothing(cli):
    ok(cli("run", "--no-monitor", "-b", "multi", "counted.py"))
    assert not default_location().exists()
    assert ok(cli("runs", "list")).startswith("no runs recorded yet")
    assert json.loads(ok(cli("runs", "list", "--json"))) == []
    assert "--no-monitor" in ok(cli("run", "--help"))


def run_record(run_id: str, started: float) -> RunRecord:
    workflow = {"name": "w", "source": None, "attr": None, "hash": "0", "graph": {"pes": [], "connections": []}}
    return RunRecord(run_id, workflow, "simple", {}, None, {}, started, started + 1, "ok", None, "h", 1, {})


def test_unknown_and_ambiguous_runs_are_one_line_and_exit_2(cli, home):
    missing = cli("runs", "show", "last")
    assert missing.returncode == 2 and missing.stderr.startswith("error: no runs recorded yet")
    store = SQLiteStore(default_location())
    store.save(run_record("abc123", 1.0))
    store.save(run_record("abd456", 2.0))
    store.close()
    unknown = cli("runs", "show", "fff")
    assert unknown.returncode == 2 and unknown.stderr == f"error: no run 'fff' in {default_location()}; " + (
        "d4py runs list shows the runs\n"
    )
    ambiguous = cli("runs", "diff", "ab", "last")
    assert ambiguous.returncode == 2 and len(ambiguous.stderr.splitlines()) == 1
    assert "run 'ab' is ambiguous: it begins 2 run ids (abc123, abd456)" in ambiguous.stderr
    assert json.loads(ok(cli("runs", "show", "abc", "--json")))["id"] == "abc123"
    assert json.loads(ok(cli("runs", "show", "last", "--json")))["id"] == "abd456"


def test_a_corrupt_store_is_one_line_and_exit_1(cli, home):
    home.mkdir()
    default_location().write_bytes(b"this is not an SQLite database, " * 100)
    for command in (["runs", "list"], ["runs", "show", "last"]):
        done = cli(*command)
        assert done.returncode == 1
        assert done.stderr.startswith("error: cannot open the run store") and len(done.stderr.splitlines()) == 1
    recorded = cli("run", "counted.py")  # the run goes on, and says it was not recorded
    assert recorded.returncode == 0 and "this run was not recorded" in recorded.stderr


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            ["run", "--monitor-store", "foo://x", "counted.py"],
            "error: --monitor-store 'foo://x': not a run store; give",
        ),
        (["run", "--monitor", "bogus", "counted.py"], "error: --monitor 'bogus': not a collector address; give"),
        (["run", "--monitor", "tcp://h:0", "counted.py"], "error: --monitor 'tcp://h:0': not a collector address"),
        (["run", "--monitor", "tcp://127.0.0.1:9", "counted.py"], "error: no monitor key: set D4PY_MONITOR_KEY, or"),
        (["run", "--monitor", "tcp://h:1", "--monitor-store", "sqlite:x", "counted.py"], "error: give --monitor"),
        (["runs", "list", "--store", "mysql://u:pw@h/db"], "error: --store 'mysql://***@h/db': not a run store"),
        (["monitor", "collect", "--listen", "udp://h:1"], "error: --listen 'udp://h:1': not a collector address"),
    ],
)
def test_bad_urls_and_a_missing_key_are_one_line_and_exit_2(cli, arguments, message):
    done = cli(*arguments)
    assert done.returncode == 2 and done.stderr.startswith(message) and len(done.stderr.splitlines()) == 1
    assert not default_location().exists()  # nothing ran


def test_a_store_url_names_an_sqlite_file_to_record_in_and_read(cli, tmp_path):
    url = f"sqlite:///{tmp_path}/elsewhere.sqlite"
    ok(cli("run", "--monitor-store", url, "counted.py"))
    (listed,) = json.loads(ok(cli("runs", "list", "--json", "--store", url)))
    assert listed["workflow"] == "counted" and not default_location().exists()
    assert json.loads(ok(cli("runs", "show", "last", "--json", env={"D4PY_MONITOR_STORE": url})))["id"] == listed["id"]


def test_a_collector_cannot_listen_on_a_port_in_use(cli, key):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        done = cli("monitor", "collect", "--listen", f"tcp://127.0.0.1:{taken.getsockname()[1]}")
    assert done.returncode == 2 and done.stderr.startswith("error: cannot listen on tcp://127.0.0.1:")
    assert "Address already in use" in done.stderr
