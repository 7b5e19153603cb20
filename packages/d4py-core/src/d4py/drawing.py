"""Draw a workflow graph: Graphviz DOT text, rendered to SVG or PNG by ``dot``."""

from __future__ import annotations

import shutil
import subprocess
from itertools import count

from d4py._exceptions import GraphError, UsageError
from d4py.graph import WorkflowGraph
from d4py.groupings import parse_grouping
from d4py.pe import GROUPING, GenericPE

__all__ = ["render", "to_dot"]

FORMATS = ("dot", "svg", "png")


def to_dot(graph: WorkflowGraph) -> str:
    """Return ``graph`` as DOT: a record per PE with its ports, a cluster per composite."""
    lines = [
        "digraph workflow {",
        "  rankdir=LR;",
        '  node [shape=Mrecord, style=filled, fillcolor=white, fontname="Helvetica"];',
        '  edge [fontname="Helvetica", fontsize=10];',
    ]
    clusters = count()
    _nodes(graph, lines, clusters, "  ")
    _, connections = graph.flatten_connections()
    for c in connections:
        # A composite's mapping may name a port its PE never declared (dispel4py 1.x drew those too):
        # draw the edge to the PE itself; running such a graph is refused by the plan, naming the port.
        declared = c.target.inputconnections.get(c.input)
        grouping = parse_grouping(declared.get(GROUPING) if declared is not None else None)
        label = "" if grouping.kind == "shuffle" else f' [label="{_escape(grouping.describe())}"]'
        target = f'"{_escape(c.target.id)}"' + (f':"in_{c.input}"' if declared is not None else "")
        lines.append(f'  "{_escape(c.source.id)}":"out_{c.output}" -> {target}{label};')
    lines.append("}")
    return "\n".join(lines) + "\n"


def _nodes(graph: WorkflowGraph, lines: list[str], clusters: count[int], indent: str) -> None:
    for node in graph.graph.nodes:
        if isinstance(node, WorkflowGraph):
            lines.append(f"{indent}subgraph cluster_{next(clusters)} {{")
            lines.append(f'{indent}  label="{_escape(node.name)}"; style=filled; fillcolor=lightgrey;')
            _nodes(node, lines, clusters, indent + "  ")
            lines.append(f"{indent}}}")
        else:
            lines.append(f'{indent}"{_escape(node.id)}" [label="{_record(node)}"];')


def _record(pe: GenericPE) -> str:
    inputs = " | ".join(f"<in_{p}> {_escape(p)}" for p in pe.inputconnections)
    outputs = " | ".join(f"<out_{p}> {_escape(p)}" for p in pe.outputconnections)
    title = _escape(pe.id) + (f" ×{pe.numprocesses}" if pe.numprocesses > 1 else "")
    parts = [f"{{{inputs}}}" if inputs else "", title, f"{{{outputs}}}" if outputs else ""]
    return "{ " + " | ".join(p for p in parts if p) + " }"


def _escape(text: str) -> str:
    return "".join("\\" + ch if ch in '{}|<>"\\' else ch for ch in str(text))


def render(graph: WorkflowGraph, fmt: str) -> bytes:
    """Return ``graph`` drawn as ``fmt`` (dot, svg or png); svg and png need Graphviz."""
    if fmt not in FORMATS:
        raise UsageError(f"cannot draw as {fmt!r}; choose one of: {', '.join(FORMATS)}")
    dot = to_dot(graph)
    if fmt == "dot":
        return dot.encode()
    program = shutil.which("dot")
    if program is None:
        raise GraphError(
            "drawing SVG or PNG needs Graphviz's `dot` program: install Graphviz "
            "(Debian: apt-get install graphviz) or draw to a .dot file"
        )
    done = subprocess.run([program, f"-T{fmt}"], input=dot.encode(), capture_output=True, check=False)
    if done.returncode != 0:
        raise GraphError(f"Graphviz failed to draw the graph: {done.stderr.decode(errors='replace').strip()}")
    return done.stdout
