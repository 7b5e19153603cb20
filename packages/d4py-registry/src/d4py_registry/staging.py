"""Run one partition instance of a plan as a step of its own, with files for transport (CWL's staged mode).

A stage is what a worker process of a d4py backend is, with files in place
of pipes: it hosts one slot (partition, shard) of the plan through
``d4py.hosting``, reads the batches upstream stages wrote for it, and writes
what it sends on as ``to<Q>.d4py`` per downstream partition Q, and what the
driver would collect as ``outputs.d4py``. Routing, groupings (a ``group_by``
key picks its shard by d4py's stable digest), end-of-stream counting and the
lifecycle are core's runtime, so a staged run gives ``d4py run``'s result.

Files hold batches framed as d4py's transports frame them (pickle protocol 5):
the run's own items, written and read by the steps of one workflow.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

from d4py import RunFailed, RunResult, UsageError
from d4py.backend import BatchOptions
from d4py.hosting import Batch, HostTransport, Outbox, ProcessHost, RunCollector, buffer_sizes, decode, encode
from d4py.plan import Plan
from d4py.plugins import get_plugin_manager
from d4py.runhooks import RunHooks

__all__ = ["OUTPUTS_FILE", "collect", "check_stageable", "read_batches", "run_stage", "stage_file"]

OUTPUTS_FILE = "outputs.d4py"
_LENGTH = 8


def stage_file(partition: int) -> str:
    """The file a stage writes for the stages of downstream ``partition``."""
    return f"to{partition}.d4py"


def check_stageable(plan: Plan) -> None:
    """Refuse plans whose partitions feed each other: steps of a CWL workflow cannot."""
    if plan.partition_cycle():
        raise UsageError("--mode staged needs partitions that feed one way; change graph.partitions or use --mode tool")


def run_stage(plan: Plan, partition: int, shard: int, sources: Sequence[Path], folder: Path) -> None:
    """Host instance ``shard`` of ``partition``, fed from ``sources``, writing its files into ``folder``."""
    if not (0 <= partition < len(plan.partitions)) or not (0 <= shard < _instances(plan, partition)):
        raise UsageError(f"the plan has no partition {partition} with instance {shard}")
    # The host runs the plan's PE objects themselves, as a worker runs its unpickled copy: copy them,
    # so the caller's graph is never changed and each stage starts from the PEs as written.
    plan = copy.deepcopy(plan)
    downstream = sorted({target for source, target in plan.partition_links() if source == partition})
    files = {q: (folder / stage_file(q)).open("wb") for q in downstream}
    outputs = (folder / OUTPUTS_FILE).open("wb")
    try:
        boxes = {q: Outbox(_writer(files[q]), BatchOptions()) for q in downstream}
        to_driver = Outbox(_writer(outputs), BatchOptions())
        # One outbox per downstream partition, whichever of its instances a message is for: each instance is
        # a stage of its own here, whatever processes a run would share out.
        layout = [[slot] for slot in plan.slots()]
        transport = HostTransport(plan, lambda process: boxes[layout[process][0][0]], to_driver, layout)
        host = ProcessHost(plan, [(partition, shard)], transport, RunHooks(get_plugin_manager()))
        host.start()
        host.run_roots()
        for batch in read_batches(sources):
            mine = [m for m in batch if m[2] == shard and plan.nodes[plan.edges[m[1]].target].partition == partition]
            host.dispatch(mine)
        if not host.finished:
            raise RunFailed(
                f"stage {partition} (instance {shard}) ran out of input before every upstream instance ended; "
                "an upstream stage's file is missing"
            )
        transport.flush()
        to_driver.put(host.done())
        to_driver.flush()
    finally:
        for file in [*files.values(), outputs]:
            file.close()


def collect(plan: Plan, sources: Sequence[Path], started: float) -> RunResult:
    """The run's result from every stage's ``outputs.d4py``, as a backend's driver gathers it."""
    collector = RunCollector(plan, None)
    for batch in read_batches(sources):
        collector.handle(batch)
    return collector.result("cwl-staged", started)


def _instances(plan: Plan, partition: int) -> int:
    return plan.nodes[plan.partitions[partition][0]].instances


def _writer(file: BinaryIO) -> Callable[[Batch], None]:
    def write(batch: Batch) -> None:
        frame, buffers = encode(batch)
        file.write(len(frame).to_bytes(_LENGTH, "big"))
        file.write(frame)
        for buffer in buffers:
            file.write(buffer)

    return write


def read_batches(sources: Sequence[Path]) -> Iterator[Batch]:
    """Every batch of every file, in order."""
    for source in sources:
        with source.open("rb") as file:
            while header := file.read(_LENGTH):
                frame = file.read(int.from_bytes(header, "big"))
                buffers = [bytearray(file.read(size)) for size in buffer_sizes(frame)]
                yield decode(frame, buffers)
