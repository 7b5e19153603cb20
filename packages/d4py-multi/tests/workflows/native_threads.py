"""Three instances report the BLAS thread count their worker runs NumPy with."""

from typing import Any

from d4py import IterativePE, WorkflowGraph
from d4py.testing.pes import Numbers


class BlasThreads(IterativePE):
    def _process(self, data: Any) -> list[int]:
        import numpy  # noqa: F401  (loads BLAS here if the worker has not yet)
        from threadpoolctl import threadpool_info

        return [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]


graph = WorkflowGraph()
source, report = Numbers(6), BlasThreads()
report.numprocesses = 3
graph.connect(source, "output", report, "input")
