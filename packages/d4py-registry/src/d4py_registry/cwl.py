"""A d4py workflow as a CWL CommandLineTool that runs the whole stream with ``d4py run --json``.

The tool is one command line, so the stream keeps d4py's semantics (and any
backend) inside it; CWL sees a step with run input in and files out:

- inputs: the workflow file (its source embedded as the default, so the
  ``.cwl`` stands alone), ``iterations`` (``-i``), ``data`` (``-d``),
  ``data_file`` (``-f``), ``backend`` (``-b``) and ``processes`` (``-n``);
- outputs: ``result``, the exact ``d4py run --json`` document, and one file
  per unconnected output port, ``PEid.port.json``, holding its items as a
  JSON array (written by ``d4py cwl outputs``).

The document is written as JSON, which CWL reads as YAML, so no YAML
library is needed.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from d4py import WorkflowGraph
from d4py_registry.__about__ import __version__
from d4py_registry.entry import sha256_of

__all__ = [
    "RESULT_FILE",
    "Source",
    "cwl_id",
    "open_outputs",
    "port_outputs",
    "run_inputs",
    "tool_document",
    "write_outputs",
]

RESULT_FILE = "d4py-result.json"


def open_outputs(graph: WorkflowGraph) -> list[str]:
    """The graph's unconnected output ports as ``PEid.port``, in PE order: what ``d4py run`` collects."""
    pes, connections = graph.flatten_connections()
    feeding = {(id(c.source), c.output) for c in connections}
    return [f"{pe.id}.{port}" for pe in pes for port in pe.outputconnections if (id(pe), port) not in feeding]


def output_file(port: str) -> str:
    return f"{port}.json"


def cwl_id(port: str) -> str:
    return re.sub(r"\W", "_", port)


@dataclass(frozen=True)
class Source:
    """How a document refers to the workflow: its ``workflow`` input, and words for its label and doc."""

    input: dict[str, Any]
    name: str
    origin: str

    @classmethod
    def of(cls, target: str, attribute: str | None) -> Source:
        """A ``.py`` file is embedded as the input's default, so the ``.cwl`` stands alone; a module is named."""
        path = Path(target)
        suffix = f" ({attribute})" if attribute else ""
        if target.endswith(".py") or path.is_file():
            source = path.read_bytes()
            literal = {"class": "File", "basename": path.name, "contents": source.decode()}
            origin = f"{path.name} (sha256 {sha256_of(source)})"
            return cls({"type": "File", "default": literal}, path.stem + suffix, origin)
        return cls({"type": "string", "default": target}, target + suffix, f"module {target}, importable where it runs")

    def bound(self) -> dict[str, Any]:
        return {**self.input, "inputBinding": {"position": 1}}


def run_inputs(attribute: str | None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The run input options as CWL inputs (-i, -d, -f), and the ``-a`` argument."""
    inputs = {
        "iterations": _option("int?", "-i", "call each root PE N times"),
        "data": _option("string?", "-d", 'run input as JSON: {"PEName": N or [inputs, ...]}'),
        "data_file": _option("File?", "-f", "run input as a JSON file"),
    }
    return inputs, [{"prefix": "-a", "valueFrom": attribute, "position": 2}] if attribute else []


def port_outputs(ports: list[str]) -> dict[str, Any]:
    """One File output per open port: ``PEid.port.json``, its items as a JSON array."""
    return {
        cwl_id(port): {
            "type": "File",
            "doc": f"the items written to {port}, as a JSON array",
            "outputBinding": {"glob": output_file(port)},
        }
        for port in ports
    }


def tool_document(graph: WorkflowGraph, target: str, attribute: str | None) -> dict[str, Any]:
    """The CommandLineTool for the workflow ``target`` (a ``.py`` file, embedded, or a module found on the path)."""
    source = Source.of(target, attribute)
    ports = open_outputs(graph)
    inputs, attribute_argument = run_inputs(attribute)
    split = shlex.join(["d4py", "cwl", "outputs", RESULT_FILE, *ports])
    return {
        "cwlVersion": "v1.2",
        "class": "CommandLineTool",
        "label": f"d4py workflow {source.name}",
        "doc": f"Runs the whole d4py stream in one step. Exported by d4py-registry {__version__} from {source.origin}.",
        "requirements": {"ShellCommandRequirement": {}},
        "baseCommand": ["d4py", "run"],
        "arguments": [
            *attribute_argument,
            {"valueFrom": "--json", "position": 3},
            {"valueFrom": "--no-progress", "position": 3},
            # The shell writes the result and splits it into one file per output port.
            {"valueFrom": f"> {RESULT_FILE} && {split}", "shellQuote": False, "position": 10},
        ],
        "inputs": {
            "workflow": source.bound(),
            **inputs,
            "backend": {**_option("string", "-b", "the d4py backend that runs the stream"), "default": "simple"},
            "processes": _option("int?", "-n", "at most N processes run PEs"),
        },
        "outputs": {
            "result": {"type": "File", "doc": "d4py run --json", "outputBinding": {"glob": RESULT_FILE}},
            **port_outputs(ports),
        },
    }


def _option(kind: str, prefix: str, doc: str) -> dict[str, Any]:
    return {"type": kind, "doc": doc, "inputBinding": {"prefix": prefix, "position": 2}}


def write_outputs(result_file: Path, ports: list[str], folder: Path) -> list[Path]:
    """Write each port's items from a ``d4py run --json`` document to ``PEid.port.json`` (``[]`` if none)."""
    outputs = json.loads(result_file.read_text())["outputs"]
    written = []
    for port in ports:
        pe_id, _, name = port.partition(".")
        target = folder / output_file(port)
        target.write_text(json.dumps(outputs.get(pe_id, {}).get(name, [])))
        written.append(target)
    return written
