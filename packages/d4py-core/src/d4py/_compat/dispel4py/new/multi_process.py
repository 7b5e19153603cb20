"""dispel4py.new.multi_process, served by d4py's ``multi`` backend (d4py-multi)."""

from __future__ import annotations

import queue
from typing import Any

from d4py.graph import WorkflowGraph
from d4py.runner import run

__all__ = ["STATUS_TERMINATED", "process"]

STATUS_TERMINATED = 12  # 1.x's end marker on a result queue
PARTITION = "SimpleProcessingPE"  # the name 1.x's results carried from a partitioned graph


def process(workflow: WorkflowGraph, inputs: Any, args: Any = None) -> queue.Queue[Any] | None:
    """Run ``workflow`` on ``multi`` with ``args.num`` processes, as 1.x's ``-n`` (None: the plan's instances).

    With ``args.results`` set, return a queue of what PEs wrote to unconnected
    outputs, then ``STATUS_TERMINATED``, in 1.x's layouts: ``(pe id, output,
    item)``, or where 1.x would have partitioned the graph (``args.simple``,
    or fewer processes than PEs) ``(partition, (pe id, output), [item])``.
    d4py runs the graph the same way in both cases.
    """
    processes = getattr(args, "num", None)
    result = run(workflow, inputs, backend="multi", processes=processes)
    if not getattr(args, "results", False):
        return None
    pes, _ = workflow.flatten_connections()
    partitioned = bool(getattr(args, "simple", False)) or (processes is not None and processes < len(pes))
    results: queue.Queue[Any] = queue.Queue()
    for pe_id, ports in result.outputs.items():
        for port, items in ports.items():
            for item in items:
                results.put((PARTITION, (pe_id, port), [item]) if partitioned else (pe_id, port, item))
    results.put(STATUS_TERMINATED)
    return results
