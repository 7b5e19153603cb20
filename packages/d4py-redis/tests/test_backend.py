"""The backend as the command line shows it: registered, its options checked with one clear line each."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

WORKFLOW = """
from d4py import WorkflowGraph
from d4py.testing.pes import Numbers, Pass
graph = WorkflowGraph()
graph.connect(Numbers(3), "output", Pass(), "input")
"""


def _d4py(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "d4py", *arguments], capture_output=True, text=True, timeout=120)


def test_redis_is_listed_with_its_options() -> None:
    listed = _d4py("backends")
    assert listed.returncode == 0 and "redis" in listed.stdout and "claim_ms" in listed.stdout


@pytest.mark.parametrize(
    ("option", "said"),
    [
        ("url=http://:secret@host/", "-o url=host/: give a redis://, rediss:// or unix:// URL"),
        ("join_file=join.json", "-o join_file=join.json: give -o url=... too"),
        ("block_ms=0", "-o block_ms=0: use 1 or more"),
        ("ca_file=ca.pem", "-o ca_file=ca.pem: give a rediss:// (TLS) URL with it"),
        ("inbox_entries=0", "-o inbox_entries=0: use 1 or more"),
        ("claim_ms=500", "-o claim_ms=500: use more than block_ms (1000)"),
    ],
)
def test_a_bad_option_is_a_usage_error_naming_it(tmp_path: Path, option: str, said: str) -> None:
    workflow = tmp_path / "wf.py"
    workflow.write_text(WORKFLOW)
    done = _d4py("run", "-b", "redis", f"-o{option}", str(workflow))
    assert done.returncode == 2
    assert said in done.stderr and "secret" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_a_run_from_the_command_line_gives_its_results(tmp_path: Path) -> None:
    workflow = tmp_path / "wf.py"
    workflow.write_text(WORKFLOW)
    done = _d4py("run", "-b", "redis", str(workflow), "-n", "3")
    assert done.returncode == 0, done.stderr
    assert "Pass1" in done.stdout


def test_joining_with_a_missing_or_foreign_join_file_is_a_usage_error(tmp_path: Path) -> None:
    missing = _d4py("redis", "worker", str(tmp_path / "join.json"))
    assert missing.returncode == 2 and "does not exist: the run has ended" in missing.stderr
    (tmp_path / "other.json").write_text('{"url": "redis://x"}')
    foreign = _d4py("redis", "worker", str(tmp_path / "other.json"))
    assert foreign.returncode == 2 and "is not one d4py wrote" in foreign.stderr
