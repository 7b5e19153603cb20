"""A d4py workflow as a CWL Workflow of one step per partition, with files between steps.

Each partition of the plan (PEs fused into one process, or ``graph.partitions``)
is a step running ``d4py cwl stage``, scattered over its instances: a
``group_by`` PE of three instances is three shards, and each item reaches the
shard its key's stable digest picks, as on every backend. A step reads the
files its upstream steps wrote for it; a last step, ``collect``, gathers what
the run's open outputs received into ``d4py run --json``'s document and one
file per port, as the ``tool`` mode writes them.
"""

from __future__ import annotations

from typing import Any

from d4py import WorkflowGraph
from d4py.plan import Plan
from d4py_registry.__about__ import __version__
from d4py_registry.cwl import RESULT_FILE, Source, cwl_id, open_outputs, port_outputs, run_inputs
from d4py_registry.staging import OUTPUTS_FILE, check_stageable, stage_file

__all__ = ["staged_document"]


def staged_document(graph: WorkflowGraph, plan: Plan, target: str, attribute: str | None) -> dict[str, Any]:
    """The CWL Workflow for ``plan`` (built from ``graph`` without a process budget)."""
    check_stageable(plan)
    source = Source.of(target, attribute)
    ports = open_outputs(graph)
    inputs, attribute_argument = run_inputs(attribute)
    links = plan.partition_links()
    steps: dict[str, Any] = {}
    for partition in plan.flow_order():
        upstream = sorted(s for s, t in links if t == partition)
        downstream = sorted(t for s, t in links if s == partition)
        members = plan.partitions[partition]
        instances = plan.nodes[members[0]].instances
        fed = {
            "upstream": {"source": [f"partition{s}/to_{partition}" for s in upstream], "linkMerge": "merge_flattened"}
        }
        steps[f"partition{partition}"] = {
            "label": ", ".join(members),
            "doc": f"{instances} instance(s), one shard each",
            "run": _stage_tool(source, inputs, attribute_argument, downstream),
            "in": {
                **{name: name for name in ("workflow", *inputs)},
                "partition": {"default": partition},
                "shard": {"default": list(range(instances))},
                **(fed if upstream else {}),
            },
            "scatter": "shard",
            "out": ["outputs", *(f"to_{q}" for q in downstream)],
        }
    steps["collect"] = {
        "run": _collect_tool(source, attribute_argument, ports),
        "in": {
            "workflow": "workflow",
            "parts": {"source": [f"{step}/outputs" for step in steps], "linkMerge": "merge_flattened"},
        },
        "out": ["result", *(cwl_id(port) for port in ports)],
    }
    return {
        "cwlVersion": "v1.2",
        "class": "Workflow",
        "label": f"d4py workflow {source.name}, staged",
        "doc": f"One step per partition, files between them. Exported by d4py-registry {__version__} "
        f"from {source.origin}.",
        "requirements": {"ScatterFeatureRequirement": {}, "MultipleInputFeatureRequirement": {}},
        "inputs": {"workflow": source.input, **{name: {"type": spec["type"]} for name, spec in inputs.items()}},
        "outputs": {
            "result": {"type": "File", "outputSource": "collect/result"},
            **{cwl_id(port): {"type": "File", "outputSource": f"collect/{cwl_id(port)}"} for port in ports},
        },
        "steps": steps,
    }


def _stage_tool(
    source: Source, inputs: dict[str, Any], attribute_argument: list[Any], downstream: list[int]
) -> dict[str, Any]:
    sent = {f"to_{q}": {"type": "File", "outputBinding": {"glob": stage_file(q)}} for q in downstream}
    return {
        "class": "CommandLineTool",
        "baseCommand": ["d4py", "cwl", "stage"],
        "arguments": attribute_argument,
        "inputs": {
            "workflow": {"type": source.input["type"], "inputBinding": {"position": 1}},
            **inputs,
            "partition": {"type": "int", "inputBinding": {"prefix": "--partition", "position": 2}},
            "shard": {"type": "int", "inputBinding": {"prefix": "--shard", "position": 2}},
            "upstream": {
                "type": {"type": "array", "items": "File", "inputBinding": {"prefix": "--from"}},
                "default": [],
                "inputBinding": {"position": 3},
            },
        },
        "outputs": {"outputs": {"type": "File", "outputBinding": {"glob": OUTPUTS_FILE}}, **sent},
    }


def _collect_tool(source: Source, attribute_argument: list[Any], ports: list[str]) -> dict[str, Any]:
    return {
        "class": "CommandLineTool",
        "baseCommand": ["d4py", "cwl", "collect"],
        "arguments": attribute_argument,
        "inputs": {
            "workflow": {"type": source.input["type"], "inputBinding": {"position": 1}},
            "parts": {
                "type": {"type": "array", "items": "File", "inputBinding": {"prefix": "--from"}},
                "inputBinding": {"position": 3},
            },
        },
        "outputs": {"result": {"type": "File", "outputBinding": {"glob": RESULT_FILE}}, **port_outputs(ports)},
    }
