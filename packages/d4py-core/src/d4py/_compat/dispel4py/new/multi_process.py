"""dispel4py.new.multi_process, served by d4py's ``multi`` backend (d4py-multi)."""

from __future__ import annotations

import queue
from typing import Any

from d4py.graph import WorkflowGraph
from d4py.runner import run

__all__ = ["STATUS_TERMINATED", "process"]

STATUS_TERMINATED = 12  # 1.x's end marker on a result queue


def process(workflow: WorkflowGraph, inputs: Any, args: Any = None) -> queue.Queue[Any] | None:
    """Run ``workflow`` on ``multi`` with ``args.num`` processes, as 1.x's ``-n`` (None: the plan's instances).

    With ``args.results`` set, return a queue of ``(pe id, output, item)`` for
    every item written to an unconnected output, then ``STATUS_TERMINATED``,
    as 1.x did.
    """
    result = run(workflow, inputs, backend="multi", processes=getattr(args, "num", None))
    if not getattr(args, "results", False):
        return None
    results: queue.Queue[Any] = queue.Queue()
    for pe_id, ports in result.outputs.items():
        for port, items in ports.items():
            for item in items:
                results.put((pe_id, port, item))
    results.put(STATUS_TERMINATED)
    return results
