"""The built topology against Flux's structure, and the resources folder and jar beside it."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from d4py import WorkflowGraph, build_plan
from d4py.backend import BatchOptions
from d4py.composite import create_iterative_chain
from d4py.plugins import make_plugin_manager
from d4py.runhooks import RunHooks
from d4py.testing import pes as p
from d4py_storm.build import build_topology
from d4py_storm.codec import new_key
from d4py_storm.flux import SHELL_BOLT, SHELL_SPOUT
from d4py_storm.topology import COLLECT, COLLECTOR


def _double(x: int) -> int:
    return 2 * x


def _graphs() -> dict[str, WorkflowGraph]:
    keyed = WorkflowGraph()
    words, pair, count = p.Words(["a", "b"]), p.Pair(), p.KeyCounter([0], numprocesses=3)
    keyed.connect(words, "output", pair, "input")
    keyed.connect(pair, "output", count, "input")
    shapes = WorkflowGraph()
    a, b, split, merge, fan = p.Numbers(4), p.Numbers(4), p.Split(), p.Merge(), p.Tagged(grouping="all", numprocesses=2)
    shapes.connect(a, "output", split, "input")
    shapes.connect(b, "output", split, "input")
    shapes.connect(split, "even", merge, "left")
    shapes.connect(split, "odd", merge, "right")
    shapes.connect(merge, "output", fan, "input")
    shapes.connect(split, "odd", fan, "input")
    chained = WorkflowGraph()
    source, chain, last = p.Numbers(3), create_iterative_chain([_double, _double]), p.Pass()
    chained.connect(source, "output", chain, "input")
    chained.connect(chain, "output", last, "input")
    partitioned = WorkflowGraph()
    x, y, z = p.Numbers(3), p.Add(1), p.Multiply(2)
    partitioned.connect(x, "output", y, "input")
    partitioned.connect(y, "output", z, "input")
    partitioned.partitions = [[x], [y, z]]
    return {"keyed": keyed, "shapes": shapes, "chained": chained, "partitioned": partitioned}


def _build(graph: WorkflowGraph, folder: Path, processes: int | None = None) -> tuple[Any, dict[str, Any]]:
    plan = build_plan(graph, processes=processes, fuse=False)
    hooks = RunHooks(make_plugin_manager(autoload=False))
    config = {"topology.workers": 2}
    built = build_topology(
        plan, hooks, folder, name="t-1", python="python3", batch=BatchOptions(), config=config, key=new_key()
    )
    return plan, yaml.safe_load(built.topology.read_text())


# The properties Flux's YAML beans have (TopologyDef, VertexDef and ObjectDef, StreamDef, GroupingDef,
# ConfigMethodDef): SnakeYAML refuses any other key.
TOPOLOGY_KEYS = {"name", "config", "components", "includes", "topologySource", "spouts", "bolts", "streams"}
VERTEX_KEYS = {"id", "className", "constructorArgs", "properties", "configMethods", "parallelism", "numTasks", "config"}
STREAM_KEYS, GROUPING_KEYS = {"name", "from", "to", "grouping"}, {"type", "streamId", "args", "customClass"}
GROUPING_TYPES = {"ALL", "CUSTOM", "DIRECT", "SHUFFLE", "LOCAL_OR_SHUFFLE", "FIELDS", "GLOBAL", "NONE"}


def _only_flux_properties(document: dict[str, Any]) -> None:
    assert set(document) <= TOPOLOGY_KEYS and {"name", "spouts", "bolts", "streams"} <= set(document)
    for vertex in document["spouts"] + document["bolts"]:
        assert set(vertex) <= VERTEX_KEYS and isinstance(vertex["parallelism"], int)
        assert all(set(method) <= {"name", "args"} for method in vertex.get("configMethods", []))
    for stream in document["streams"]:
        assert set(stream) <= STREAM_KEYS and set(stream["grouping"]) <= GROUPING_KEYS
        assert stream["grouping"]["type"] in GROUPING_TYPES


def _streams_declared(component: dict[str, Any]) -> set[str]:
    declared = {"default"} if len(component["constructorArgs"]) > 1 else set()
    return declared | {m["args"][0] for m in component.get("configMethods", []) if m["name"] == "setNamedStream"}


@pytest.mark.parametrize("shape", ["keyed", "shapes", "chained", "partitioned"])
@pytest.mark.parametrize("processes", [None, 6])
def test_the_topology_has_flux_structure_one_component_per_pe_and_direct_streams(shape, processes, tmp_path):
    plan, document = _build(_graphs()[shape], tmp_path, processes)
    _only_flux_properties(document)
    assert document["name"] == "t-1" and document["config"] == {"topology.workers": 2}
    spouts, bolts = document["spouts"], document["bolts"]
    components = {c["id"]: c for c in spouts + bolts}
    assert len(components) == len(spouts) + len(bolts), "component ids repeat"
    assert not any(name.startswith("__") for name in components), "Storm keeps ids starting with __"
    expected = {"+".join(members): members for members in plan.partitions}
    assert set(components) == {*expected, COLLECTOR}
    for name, members in expected.items():
        component = components[name]
        assert component["parallelism"] == component["numTasks"] == plan.nodes[members[0]].instances
        root = any(pe not in plan.incoming for pe in members)
        assert component["className"] == (SHELL_SPOUT if root else SHELL_BOLT)
        assert (component in spouts) == root
        command, fields = component["constructorArgs"]
        assert command == ["python3", "-m", "d4py_storm.component"] and fields == ["batch", "mac"]
    assert components[COLLECTOR]["className"] == SHELL_BOLT and components[COLLECTOR]["parallelism"] == 1
    spout_ids = {c["id"] for c in spouts}
    links = set()
    for stream in document["streams"]:
        assert stream["from"] in components and stream["to"] in components
        assert stream["to"] not in spout_ids, "a spout may not declare inputs"
        assert stream["grouping"]["type"] == "DIRECT"
        assert stream["grouping"].get("streamId", "default") in _streams_declared(components[stream["from"]])
        links.add((stream["from"], stream["to"], stream["grouping"].get("streamId", "default")))
    between = {
        (
            "+".join(plan.partitions[plan.nodes[e.source].partition]),
            "+".join(plan.partitions[plan.nodes[e.target].partition]),
        )
        for e in plan.edges
        if plan.nodes[e.source].partition != plan.nodes[e.target].partition
    }
    assert {(a, b) for a, b, stream in links if stream == "default"} == between
    assert {a for a, b, stream in links if stream == COLLECT and b == COLLECTOR} == set(expected)


def test_explicit_partitions_share_a_component_and_chains_do_not(tmp_path):
    plan, document = _build(_graphs()["partitioned"], tmp_path / "p")
    _, y, z = plan.nodes
    assert {c["id"] for c in document["bolts"]} == {f"{y}+{z}", COLLECTOR}
    plan, document = _build(_graphs()["chained"], tmp_path / "c")
    assert len(document["spouts"] + document["bolts"]) == len(plan.nodes) + 1


def test_the_resources_hold_the_workflow_its_local_modules_and_pinned_requirements(tmp_path):
    pytest.importorskip("numpy")
    (tmp_path / "helpers.py").write_text("import numpy\n\nSCALE = 3\n")
    (tmp_path / "flow.py").write_text(
        "import json\nimport helpers\nfrom d4py import WorkflowGraph\n"
        "from d4py.testing.pes import Numbers, Multiply\n\n"
        "graph = WorkflowGraph()\ngraph.connect(Numbers(2), 'output', Multiply(helpers.SCALE), 'input')\n"
    )
    out = tmp_path / "out"
    command = [sys.executable, "-m", "d4py", "storm", "build", str(tmp_path / "flow.py"), "-o", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "storm jar" in done.stdout and "org.apache.storm.flux.Flux" in done.stdout
    requirements = (out / "resources" / "requirements.txt").read_text().splitlines()
    from importlib.metadata import version

    assert f"numpy=={version('numpy')}" in requirements and f"d4py-core=={version('d4py-core')}" in requirements
    assert not any(line.startswith(("json", "helpers")) for line in requirements)
    with zipfile.ZipFile(out / "topology.jar") as jar:
        names = set(jar.namelist())
    assert {"resources/workflow/flow.py", "resources/workflow/helpers.py", "resources/requirements.txt"} <= names
    assert "resources/d4py-run.pickle" in names and "META-INF/MANIFEST.MF" in names


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["-n", "0"], "-n 0: the process budget must be 1 or more"),
        (["--name", "a.b"], "--name=a.b: a topology name of letters"),
        (["-d", "{"], "-d: invalid JSON"),
        (["-a", "nothing"], "has no attribute 'nothing'"),
    ],
)
def test_bad_input_to_build_is_one_line_and_exit_2(arguments, message, tmp_path):
    (tmp_path / "flow.py").write_text(
        "from d4py import WorkflowGraph\nfrom d4py.testing.pes import Numbers, Pass\n\n"
        "graph = WorkflowGraph()\ngraph.connect(Numbers(2), 'output', Pass(), 'input')\n"
    )
    command = [sys.executable, "-m", "d4py", "storm", "build", str(tmp_path / "flow.py"), "-o", str(tmp_path / "o")]
    done = subprocess.run(command + arguments, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and message in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_a_pe_that_cannot_travel_to_the_components_is_named(tmp_path):
    (tmp_path / "locked.py").write_text(
        "import threading\nfrom d4py import WorkflowGraph\nfrom d4py.testing.pes import Numbers, Pass\n\n"
        "class Locked(Pass):\n    def __init__(self):\n        super().__init__()\n"
        "        self.lock = threading.Lock()\n\n"
        "graph = WorkflowGraph()\ngraph.connect(Numbers(2), 'output', Locked(), 'input')\n"
    )
    command = [sys.executable, "-m", "d4py", "storm", "build", str(tmp_path / "locked.py"), "-o", str(tmp_path / "o")]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "PE 'Locked1' cannot be pickled for Storm's components" in done.stderr and "preprocess()" in done.stderr
