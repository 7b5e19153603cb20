"""The ``simple`` backend: every instance in this process, streaming depth first.

Each item written travels through the whole downstream graph before the
writer continues, so memory stays flat whatever the stream length. Instances
are the plan's: a PE with ``numprocesses=3`` runs three instances here too, so
results equal those of the parallel backends.
"""

from __future__ import annotations

import sys
import time
from contextlib import suppress
from typing import Any

from d4py.backend import Backend, RunResult
from d4py.hookspecs import hookimpl
from d4py.hosting.collector import OutputCollector
from d4py.observe import Sampler
from d4py.plan import Edge, Plan
from d4py.runhooks import RunHooks
from d4py.runtime import Instance, InstanceInfo, Send, TracedSend, instantiate

OBSERVE_SECONDS = 0.5  # how often, at most, observers get their instance's activity during the run

__all__ = ["SimpleBackend"]


class _DirectTransport:
    """Delivers by calling the receiving instance at once."""

    def __init__(self, collector: OutputCollector, hooks: RunHooks) -> None:
        self.instances: dict[tuple[str, int], Instance] = {}
        self.collector, self.hooks = collector, hooks

    def deliver(self, edge: Edge, target: int) -> Send:
        return self.instances[(edge.target, target)].receiver(edge.input)

    def deliver_traced(self, edge: Edge, target: int) -> TracedSend:
        return self.instances[(edge.target, target)].traced_receiver(edge.input)

    def end(self, edge: Edge, target: int, source: int) -> None:
        self.instances[(edge.target, target)].end_of_input(edge.index, source)

    def collect(self, pe_id: str, port: str) -> Send:
        return self.collector.sink(pe_id, port)

    def report(self, info: InstanceInfo, final: bool, reports: list[Any]) -> None:
        self.hooks.observer_reports(info.pe_id, info.index, info.instances, final, reports)


class SimpleBackend(Backend):
    """Sequential, in one process: for development, tests and small data."""

    name = "simple"
    description = "one process, depth-first streaming; the reference for every other backend"

    def run(self, plan: Plan, hooks: RunHooks) -> RunResult:
        started = time.perf_counter()
        _allow_depth(plan)
        transport = _DirectTransport(OutputCollector(plan), hooks)
        sampler = Sampler()
        order: list[Instance] = []
        try:
            for pe_id, node in plan.nodes.items():
                for index, pe in enumerate(instantiate(node.pe, node.instances)):
                    info = InstanceInfo(pe_id, index, node.instances)
                    wrappers, observers = hooks.wrappers(pe, info), hooks.observers(pe, info)
                    instance = Instance(plan, pe_id, index, pe, transport, wrappers, observers, sampler)
                    transport.instances[(pe_id, index)] = instance
                    order.append(instance)
            hooks.count_with(lambda: _counts(plan, order))
            self._stream(plan, transport, order)
        except BaseException:
            for instance in order:  # a failed run keeps what its instances did
                with suppress(Exception):
                    instance.give_up()
            raise
        finally:
            sampler.stop()  # it ends with the last observed instance, unless the run failed or never began
        return RunResult(transport.collector.result(), _counts(plan, order), time.perf_counter() - started, self.name)

    @staticmethod
    def _stream(plan: Plan, transport: _DirectTransport, order: list[Instance]) -> None:
        observed = [instance for instance in order if instance.observers]
        observed_at = time.monotonic()
        # Downstream first: a receiver must exist before anything can write to it.
        for instance in reversed(order):
            instance.connect()
        for instance in reversed(order):
            instance.start()
        for root in plan.roots:
            count = plan.nodes[root].instances
            for turn, inputs in enumerate(plan.inputs.get(root, [])):
                transport.instances[(root, turn % count)].feed(inputs, turn)
                if observed and time.monotonic() - observed_at >= OBSERVE_SECONDS:
                    observed_at = time.monotonic()
                    for instance in observed:
                        if not instance.finished:
                            instance.observe()
            for index in range(count):
                transport.instances[(root, index)].finish()
        stuck = [f"{i.pe_id}[{i.index}]" for i in order if not i.finished]
        if stuck:  # the plan guarantees every end-of-stream arrives; this is a bug if seen
            raise RuntimeError(f"instances never ended: {', '.join(stuck)}")


def _counts(plan: Plan, instances: list[Instance]) -> dict[str, int]:
    counts = dict.fromkeys(plan.nodes, 0)
    for instance in instances:
        counts[instance.pe_id] += instance.count
    return counts


def _allow_depth(plan: Plan) -> None:
    # Depth-first delivery nests a few frames per stage; long chains need room.
    needed = 2000 + 10 * len(plan.nodes)
    if sys.getrecursionlimit() < needed:
        sys.setrecursionlimit(needed)


@hookimpl
def d4py_backends() -> list[type[Backend]]:
    return [SimpleBackend]
