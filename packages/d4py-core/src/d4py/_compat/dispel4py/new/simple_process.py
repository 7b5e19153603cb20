"""dispel4py.new.simple_process, served by d4py's ``simple`` backend."""

from __future__ import annotations

from typing import Any

from d4py.graph import WorkflowGraph
from d4py.runner import run

__all__ = ["process", "process_and_return"]


def process_and_return(
    workflow: WorkflowGraph, inputs: Any, resultmappings: Any = None
) -> dict[str, dict[str, list[Any]]]:
    """Run ``workflow`` on ``simple`` and return ``{pe_id: {output: [items]}}``."""
    return run(workflow, inputs, backend="simple").outputs


def process(workflow: WorkflowGraph, inputs: Any, args: Any = None, resultmappings: Any = None) -> None:
    """Run ``workflow`` on ``simple`` and print its outputs."""
    print(f"Outputs: {process_and_return(workflow, inputs)}")
