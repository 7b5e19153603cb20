"""One measurement of the pipeline workload, run inside the interpreter under test.

    python pipeline.py SYSTEM ITEMS STAGES [--memory]

SYSTEM is `python` (a plain loop), `d4py` (d4py's simple backend),
`d4py-observed` (the same with a plugin that attaches a no-op observer to
every instance) or `dispel4py` (dispel4py 1.2.1's simple mapping, in its own
venv). The workload:
a producer writes ITEMS small ints, STAGES one-to-one stages add 1, a sink
counts them. Prints one JSON line: seconds, or tracemalloc's peak bytes with
--memory (a separate run, since tracing slows everything down).
"""

from __future__ import annotations

import json
import sys
import time
import tracemalloc
from collections.abc import Callable


def plain_python(items: int, stages: int) -> Callable[[], int]:
    def add_one(x: int) -> int:
        return x + 1

    chain = [add_one] * stages

    def run() -> int:
        count = 0
        for i in range(items):
            x = i
            for stage in chain:
                x = stage(x)
            count += 1
        return count

    return run


def with_library(system: str, items: int, stages: int) -> Callable[[], int]:
    if system.startswith("d4py"):
        from d4py import ConsumerPE, IterativePE, ProducerPE, WorkflowGraph, hookimpl, run
        from d4py.observe import Observer
        from d4py.plugins import backend_registry

        backend_registry()  # load plugins now: a one-time import, not part of a run

        class NoOpObservers:
            @hookimpl
            def d4py_observe(self, pe: object, info: object) -> Observer:
                return Observer()

        plugins = [NoOpObservers()] if system == "d4py-observed" else []

        def execute(graph: WorkflowGraph, producer: ProducerPE) -> None:
            run(graph, plugins=plugins)

    else:
        from dispel4py.base import ConsumerPE, IterativePE, ProducerPE
        from dispel4py.new.simple_process import process_and_return
        from dispel4py.workflow_graph import WorkflowGraph

        def execute(graph: WorkflowGraph, producer: ProducerPE) -> None:
            process_and_return(graph, {producer: 1})

    counted = [0]

    class Numbers(ProducerPE):
        def _process(self, inputs: object) -> None:
            for i in range(items):
                self.write("output", i)

    class AddOne(IterativePE):
        def _process(self, data: int) -> int:
            return data + 1

    class Count(ConsumerPE):
        def _process(self, data: int) -> None:
            counted[0] += 1

    def run_once() -> int:
        counted[0] = 0
        graph = WorkflowGraph()
        producer = previous = Numbers()
        for _ in range(stages):
            stage = AddOne()
            graph.connect(previous, "output", stage, "input")
            previous = stage
        sink = Count()
        graph.connect(previous, "output", sink, "input")
        execute(graph, producer)
        return counted[0]

    return run_once


def main() -> None:
    system, items, stages = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    memory = "--memory" in sys.argv
    workload = plain_python(items, stages) if system == "python" else with_library(system, items, stages)
    if memory:
        tracemalloc.start()
    started = time.perf_counter()
    count = workload()
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] if memory else None
    if count != items:
        raise SystemExit(f"{system}: the sink counted {count} items, expected {items}")
    print(json.dumps({"seconds": seconds, "peak_bytes": peak}))


if __name__ == "__main__":
    main()
