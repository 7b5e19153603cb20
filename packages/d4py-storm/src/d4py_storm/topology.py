"""How a plan maps onto a Storm topology, as the driver and every component see it.

One component per partition of the plan (one per PE, since the storm
backend does not fuse chains; PEs the user put in one ``graph.partitions``
share one), named after its PEs, with one task per planned instance: task
*k* of a component (its *k*-th task id, sorted) runs instance *k*. A
partition that holds a root is a spout, any other a bolt. Every task is one
process of d4py's own layout, numbered in the plan's slot order, and
:class:`RunSettings` is what each component reads from the resources folder.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path

from d4py.backend import BatchOptions
from d4py.hosting import FIRST_BACKEND_KIND, WorkerSettings
from d4py.plan import Plan, Slot

__all__ = [
    "COLLECT",
    "COLLECTOR",
    "ITEMS",
    "SETTINGS_FILE",
    "STARTED",
    "RunSettings",
    "component_ids",
    "is_spout",
    "task_layout",
]

COLLECTOR = "d4py-collector"  # the bolt that passes what tasks tell the driver on to it
ITEMS = "default"  # the stream of batches between PE components
COLLECT = "collect"  # the stream of batches from every task to the collector
SETTINGS_FILE = "d4py-run.pickle"  # in the resources folder, a component's working directory
# (STARTED, process, component, task id): a task has started. Twice for one process means Storm restarted it.
STARTED = FIRST_BACKEND_KIND


@dataclass(frozen=True)
class RunSettings:
    """What every component of one topology needs (plain pickle; it travels inside the topology jar)."""

    name: str  # the topology's name
    worker: WorkerSettings  # core's: the plan, workflow modules, logs, the run's plugins
    key: bytes  # signs every batch of this run (see d4py_storm.codec)
    components: tuple[str, ...]  # the component id of each partition
    driver: str | None  # host:port the collector forwards batches to; None: it logs them
    batch: BatchOptions

    def save(self, resources: Path) -> None:
        (resources / SETTINGS_FILE).write_bytes(pickle.dumps(self))

    @staticmethod
    def load(resources: Path) -> RunSettings:
        # The file comes from the topology jar the user submitted, as trusted as the workflow code beside it.
        settings: RunSettings = pickle.loads((resources / SETTINGS_FILE).read_bytes())
        return settings


def component_ids(plan: Plan) -> tuple[str, ...]:
    """The component id of each partition: its PE's id, or its PEs' ids joined by '+'."""
    return tuple("+".join(members) for members in plan.partitions)


def is_spout(plan: Plan, partition: int) -> bool:
    """Whether a partition holds a root: Storm then runs it as a spout."""
    return any(pe_id not in plan.incoming for pe_id in plan.partitions[partition])


def task_layout(plan: Plan) -> list[list[Slot]]:
    """d4py's process layout on Storm: one process per task, that is, per slot of the plan."""
    return [[slot] for slot in plan.slots()]
