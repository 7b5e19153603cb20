"""Stages run in turn, each a slot of the plan with files between them, give d4py run's result."""

import json
import time

import pytest
from conftest import WORKFLOWS

import d4py
from d4py.loader import load_workflow
from d4py_registry.staging import OUTPUTS_FILE, collect, run_stage, stage_file


def as_multisets(outputs):
    """Outputs compared without the order that items from different instances arrive in (not promised)."""
    return {pe: {port: sorted(map(repr, items)) for port, items in ports.items()} for pe, ports in outputs.items()}


def staged_run(graph, run_input, folder):
    """Run every stage of the plan the way a CWL engine would: upstream first, one folder per shard."""
    plan = d4py.build_plan(graph, run_input)
    written = {}  # partition -> its shards' folders
    for partition in plan.flow_order():
        sources = [
            shard / stage_file(partition)
            for upstream, target in sorted(plan.partition_links())
            if target == partition
            for shard in written[upstream]
        ]
        written[partition] = []
        for shard in range(plan.nodes[plan.partitions[partition][0]].instances):
            place = folder / f"p{partition}s{shard}"
            place.mkdir()
            run_stage(plan, partition, shard, sources, place)
            written[partition].append(place)
    parts = [place / OUTPUTS_FILE for places in written.values() for place in places]
    return plan, collect(d4py.build_plan(graph), parts, time.perf_counter())


@pytest.mark.parametrize(("workflow", "run_input"), [("textstats.py", 2), ("scaled.py", {"scale": [1, 2, 3]})])
def test_stages_give_d4py_runs_outputs_and_counts(workflow, run_input, tmp_path):
    graph = load_workflow(str(WORKFLOWS / workflow))
    expected = d4py.run(graph, run_input)
    _, result = staged_run(graph, run_input, tmp_path)
    assert as_multisets(result.outputs) == as_multisets(expected.outputs)
    assert result.counts == expected.counts


def test_a_group_by_partition_runs_as_one_shard_per_instance_each_with_its_own_keys(tmp_path):
    plan, result = staged_run(load_workflow(str(WORKFLOWS / "textstats.py")), 1, tmp_path)
    counting = next(p for p, members in enumerate(plan.partitions) if any(m.startswith("CountWords") for m in members))
    shards = sorted(tmp_path.glob(f"p{counting}s*"))
    assert len(shards) == 2  # CountWords declares numprocesses=2
    assert json.dumps(result.outputs)  # JSON-able, as collect writes it
