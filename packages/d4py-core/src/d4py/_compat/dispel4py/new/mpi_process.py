"""dispel4py.new.mpi_process, served by d4py's ``mpi`` backend (d4py-mpi)."""

from __future__ import annotations

from typing import Any

from d4py.graph import WorkflowGraph
from d4py.runner import run

__all__ = ["process"]


def process(workflow: WorkflowGraph, inputs: Any, args: Any = None) -> None:
    """Run ``workflow`` on ``mpi``: inside ``mpiexec -n N`` on the job's ranks, else in a job d4py starts.

    ``args.num``, when set, is the process budget as d4py's ``-n``.
    """
    run(workflow, inputs, backend="mpi", processes=getattr(args, "num", None))
