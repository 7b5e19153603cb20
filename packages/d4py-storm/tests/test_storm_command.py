"""The real-cluster path of ``d4py run -b storm``, with a stand-in ``storm`` command in front of the emulator.

The stand-in does what the documentation says ``storm`` does with the
commands d4py gives it: ``version`` prints the version; ``jar`` takes the
topology jar and the Flux YAML, unpacks the jar's ``resources/`` as a
supervisor does, and starts the topology (here: ``python -m
d4py_storm.emulator``) in the background before it returns; ``kill`` stops
it. It records every command line, so the test sees what d4py asked for.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from d4py import PEFailure, WorkflowGraph, run
from d4py.testing import assert_same_items
from d4py.testing import pes as p

pytestmark = pytest.mark.timeout(300)

STORM = """#!{python}
import fcntl, json, os, shutil, signal, subprocess, sys, zipfile
from pathlib import Path

state = Path({state!r})
with open(state / "commands.jsonl", "a") as log:
    log.write(json.dumps(sys.argv[1:]) + "\\n")
command = sys.argv[1]
if command == "version":
    print("Storm 2.6.1\\nURL https://example.org -r 1")
elif command == "jar":
    jar, main, topology = sys.argv[2:5]
    assert main == "org.apache.storm.flux.Flux"
    import yaml
    name = yaml.safe_load(Path(topology).read_text())["name"]
    folder = state / name
    with zipfile.ZipFile(jar) as archive:
        archive.extractall(folder)
    shutil.copyfile(topology, folder / "topology.yaml")
    lock = folder / "running.lock"
    lock.touch()
    runner = "import fcntl, sys; from d4py_storm.emulator import main; "
    runner += "held = open(sys.argv[2]); fcntl.flock(held, fcntl.LOCK_EX); sys.exit(main([sys.argv[1]]))"
    with open(folder / "worker.log", "w") as worker_log:  # not the pipes of whoever runs storm jar
        emulator = subprocess.Popen([sys.executable, "-c", runner, str(folder / "topology.yaml"), str(lock)],
                                    stdin=subprocess.DEVNULL, stdout=worker_log, stderr=worker_log,
                                    start_new_session=True)
    (folder / "pid").write_text(str(emulator.pid))
elif command == "kill":
    folder = state / sys.argv[2]
    os.kill(int((folder / "pid").read_text()), signal.SIGTERM)
    with open(folder / "running.lock") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # granted once the emulator has exited
"""


@pytest.fixture
def storm(tmp_path: Path) -> tuple[Path, Path]:
    state = tmp_path / "storm-state"
    state.mkdir()
    command = tmp_path / "bin" / "storm"
    command.parent.mkdir()
    command.write_text(STORM.format(python=sys.executable, state=str(state)))
    command.chmod(0o755)
    return command, state


def _options(command: Path) -> list[str]:
    return [f"storm={command}", "nimbus=nimbus.example.org:6627", "driver=127.0.0.1", f"python={sys.executable}"]


def _commands(state: Path) -> list[list[str]]:
    return [json.loads(line) for line in (state / "commands.jsonl").read_text().splitlines()]


def test_a_run_is_submitted_through_flux_collected_and_killed(storm):
    command, state = storm
    graph = WorkflowGraph()
    words, pair, count = p.Words(["a", "b", "a"]), p.Pair(), p.KeyCounter([0], numprocesses=2)
    graph.connect(words, "output", pair, "input")
    graph.connect(pair, "output", count, "input")
    got = run(graph, 2, backend="storm", options=_options(command)).output(count.id)
    assert_same_items([row[:2] for row in got], [row[:2] for row in run(graph, 2).output(count.id)])
    version, jar, kill = _commands(state)
    assert version == ["version", "-c", 'nimbus.seeds=["nimbus.example.org"]', "-c", "nimbus.thrift.port=6627"]
    assert jar[:3] == ["jar", jar[1], "org.apache.storm.flux.Flux"] and jar[1].endswith("topology.jar")
    assert jar[3].endswith("topology.yaml") and jar[-4:] == version[1:]
    assert "org.apache.storm:flux-core:2.6.1,org.apache.storm:flux-wrappers:2.6.1" in jar
    assert kill[:4] == ["kill", kill[1], "-w", "0"] and (state / kill[1] / "topology.yaml").exists()


def test_a_failed_run_is_killed_too(storm):
    command, state = storm
    graph = WorkflowGraph()
    source, faulty = p.Numbers(5), p.Fails(bad=2)
    graph.connect(source, "output", faulty, "input")
    with pytest.raises(PEFailure, match="failed in process on item"):
        run(graph, backend="storm", options=_options(command))
    assert [line[0] for line in _commands(state)] == ["version", "jar", "kill"]


def test_a_submission_storm_refuses_fails_the_run_with_its_words(storm, tmp_path):
    command, _ = storm
    refusing = tmp_path / "bin" / "refusing-storm"
    refusing.write_text(
        f"#!/bin/sh\n[ \"$1\" = version ] && exec {command} version\necho 'Nimbus unreachable' >&2\nexit 1\n"
    )
    refusing.chmod(0o755)
    graph = WorkflowGraph()
    graph.connect(p.Numbers(1), "output", p.Pass(), "input")
    with pytest.raises(Exception, match=r"storm jar could not submit topology .*: Nimbus unreachable"):
        run(graph, backend="storm", options=[f"storm={refusing}", "driver=127.0.0.1"])
