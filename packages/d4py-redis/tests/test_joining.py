"""``d4py redis worker FILE`` joins a running job from another shell, shares its pool, and leaves when done or told."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from d4py.testing.processes import interruptible

WORKFLOW = '''
import os, signal, time
from pathlib import Path
from d4py import WorkflowGraph
from d4py.pe import IterativePE
from d4py.testing.pes import Numbers

MET = Path(os.environ["MEETING_DIR"])


class Meet(IterativePE):
    """At its first item, wait (a minute at most) until two processes run this PE; tag every item with its process."""

    def _process(self, data):
        if not (MET / str(os.getpid())).exists():
            (MET / str(os.getpid())).touch()
            deadline = time.monotonic() + 60
            while len(list(MET.iterdir())) < 2 and time.monotonic() < deadline:
                time.sleep(0.01)
            if os.environ.get("LEAVE_AT_FIRST_ITEM"):
                os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C, mid-item
        return (data, os.getpid())


meet = Meet()
meet.numprocesses = 2  # not fused with its source: shared by the pool
graph = WorkflowGraph()
graph.connect(Numbers(40), "output", meet, "input")
'''


def _wait_for(path: Path, driver: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while not path.exists():  # the driver writes it once the run's job is in Redis: polled, bounded
        assert driver.poll() is None and time.monotonic() < deadline, "the run never wrote its join file"
        time.sleep(0.01)


def _run_with_a_worker_by_hand(server_url: str, tmp_path: Path, leave: bool) -> tuple[list[list[int]], str]:
    """Run the meeting workflow with one local pool worker and one started by hand; its rows, and what it said."""
    (tmp_path / "met").mkdir()
    workflow, join = tmp_path / "meeting.py", tmp_path / "join.json"
    workflow.write_text(WORKFLOW)
    environment = {**os.environ, "MEETING_DIR": str(tmp_path / "met")}
    options = [f"-ourl={server_url}", f"-ojoin_file={join}", "-opool_workers=1", "-obatch_items=2"]
    command = [sys.executable, "-m", "d4py", "run", "-b", "redis", str(workflow), "--json", *options]
    driver = subprocess.Popen(command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(join, driver)
        assert oct(join.stat().st_mode & 0o777) == "0o600"  # it holds the run's key
        joined = subprocess.run(
            [sys.executable, "-m", "d4py", "redis", "worker", str(join)],
            env={**environment, "LEAVE_AT_FIRST_ITEM": "1" if leave else ""},
            capture_output=True,
            text=True,
            timeout=300,
            preexec_fn=interruptible,
        )
        out, err = driver.communicate(timeout=300)
    finally:
        driver.kill()
        driver.wait()
    assert joined.returncode == 0, joined.stderr
    assert driver.returncode == 0, err
    assert not join.exists(), "the join file outlived the run"
    return json.loads(out)["outputs"]["Meet1"]["output"], joined.stderr


def test_a_worker_started_by_hand_joins_the_pool_and_the_run_gives_every_item_once(
    server_url: str, tmp_path: Path
) -> None:
    rows, _ = _run_with_a_worker_by_hand(server_url, tmp_path, leave=False)
    assert sorted(item for item, _ in rows) == list(range(40))
    assert len({pid for _, pid in rows}) == 2, "the worker started by hand took no item"


def test_a_worker_interrupted_mid_item_leaves_and_hands_its_items_back(server_url: str, tmp_path: Path) -> None:
    rows, said = _run_with_a_worker_by_hand(server_url, tmp_path, leave=True)
    assert sorted(item for item, _ in rows) == list(range(40))
    assert len({pid for _, pid in rows}) == 1, "the interrupted worker committed an item"
    assert "left the run" in said
