"""The workflow as a run record keeps it: its graph described as data, a content hash, and a name."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

from d4py.plan import Plan

__all__ = ["describe_graph", "describe_workflow", "graph_hash"]


def describe_graph(plan: Plan) -> dict[str, Any]:
    """The plan's PEs (class, ports, instances, partition) and connections (with groupings), as JSON data."""
    pes = [
        {
            "id": pe_id,
            "name": node.name,
            "class": f"{type(node.pe).__module__}.{type(node.pe).__qualname__}",
            "inputs": sorted(node.pe.inputconnections),
            "outputs": sorted(node.pe.outputconnections),
            "instances": node.instances,
            "partition": node.partition,
        }
        for pe_id, node in plan.nodes.items()
    ]
    connections = [
        {
            "from": edge.source,
            "output": edge.output,
            "to": edge.target,
            "input": edge.input,
            "grouping": edge.grouping.describe(),
        }
        for edge in plan.edges
    ]
    return {"pes": pes, "connections": connections}


def graph_hash(graph: dict[str, Any]) -> str:
    """A hash of the graph's content: PE classes, names and ports, and connections with their groupings.

    Not PE ids, which number PEs in the order a process made them (the same
    graph built twice in one session gets other ids), nor instance counts or
    partitions, which follow ``-n`` and the backend: one workflow run with
    another budget keeps its hash.
    """
    position = {pe["id"]: number for number, pe in enumerate(graph["pes"])}
    content = {
        "pes": [[pe["class"], pe["name"], pe["inputs"], pe["outputs"]] for pe in graph["pes"]],
        "connections": sorted(
            [position[c["from"]], c["output"], position[c["to"]], c["input"], c["grouping"]]
            for c in graph["connections"]
        ),
    }
    return hashlib.sha256(json.dumps(content).encode()).hexdigest()[:16]


def describe_workflow(plan: Plan, source: str | None, attr: str | None) -> dict[str, Any]:
    """Name, source, graph and hash of the workflow a run enacts.

    ``source`` is the file or module the user gave ``d4py run``; a run started
    from Python is named after the script that started it, when there is one.
    """
    if source is None:
        source = getattr(sys.modules.get("__main__"), "__file__", None)
    if source is not None and source.endswith(".py") and Path(source).is_file():
        source = str(Path(source).resolve())
    # Without a source (an interactive session), the graph's roots say what it is.
    name = "+".join(plan.roots) if source is None else Path(source).stem if source.endswith(".py") else source
    if attr:
        name += f":{attr}"
    graph = describe_graph(plan)
    return {"name": name, "source": source, "attr": attr, "hash": graph_hash(graph), "graph": graph}
