"""The Flux topology (Storm 2.x's YAML DSL) of a plan: shell spouts and bolts joined by direct streams.

Every PE component is a ``FluxShellSpout`` or ``FluxShellBolt`` running
``python -m d4py_storm.component``, with one output field pair
``[batch, mac]`` on the default stream (batches for other PE components)
and on the ``collect`` stream (batches for the collector). Every stream is
subscribed with ``DIRECT`` grouping: d4py's own router picks the task, so
keys land where they land on every backend and ``global`` goes to one
task. The groupings the PEs declared are in each stream's ``name``, which
Flux shows and otherwise ignores.
"""

from __future__ import annotations

from typing import Any

from d4py.plan import Plan
from d4py_storm.codec import FIELDS
from d4py_storm.topology import COLLECT, COLLECTOR, component_ids, is_spout

__all__ = ["SHELL_BOLT", "SHELL_SPOUT", "flux_topology"]

SHELL_SPOUT = "org.apache.storm.flux.wrappers.spouts.FluxShellSpout"
SHELL_BOLT = "org.apache.storm.flux.wrappers.bolts.FluxShellBolt"


def flux_topology(plan: Plan, name: str, command: list[str], config: dict[str, Any]) -> dict[str, Any]:
    """The Flux document (to dump as YAML) that runs ``plan`` as topology ``name``."""
    ids = component_ids(plan)
    spouts: list[dict[str, Any]] = []
    bolts: list[dict[str, Any]] = []
    for partition, component in enumerate(ids):
        instances = plan.nodes[plan.partitions[partition][0]].instances
        shell = {
            "id": component,
            "className": SHELL_SPOUT if is_spout(plan, partition) else SHELL_BOLT,
            "constructorArgs": [list(command), list(FIELDS)],  # copies: YAML would write repeats as aliases
            "configMethods": [{"name": "setNamedStream", "args": [COLLECT, list(FIELDS)]}],
            "parallelism": instances,
            "numTasks": instances,  # fixed, so rebalancing executors keeps one task per instance
        }
        (spouts if is_spout(plan, partition) else bolts).append(shell)
    # The collector emits nothing; it declares the same fields all the same, so Flux sees no empty array.
    collector = [list(command), list(FIELDS)]
    bolts.append(
        {"id": COLLECTOR, "className": SHELL_BOLT, "constructorArgs": collector, "parallelism": 1, "numTasks": 1}
    )
    return {
        "name": name,
        "config": config,
        "spouts": spouts,
        "bolts": bolts,
        "streams": _streams(plan, ids),
    }


def _streams(plan: Plan, ids: tuple[str, ...]) -> list[dict[str, Any]]:
    described: dict[tuple[int, int], list[str]] = {}
    for edge in plan.edges:
        source, target = plan.nodes[edge.source].partition, plan.nodes[edge.target].partition
        if source != target:  # PEs of one partition call each other in one process
            grouping = edge.grouping.describe()
            described.setdefault((source, target), []).append(
                f"{edge.source}.{edge.output} -> {edge.target}.{edge.input} ({grouping})"
            )
    streams = [
        {
            "name": f"{ids[source]} --> {ids[target]}: " + "; ".join(edges) + ", routed by d4py",
            "from": ids[source],
            "to": ids[target],
            "grouping": {"type": "DIRECT"},
        }
        for (source, target), edges in sorted(described.items())
    ]
    streams += [
        {
            "name": f"{component} --> {COLLECTOR}: outputs, counts and failures for the driver",
            "from": component,
            "to": COLLECTOR,
            "grouping": {"type": "DIRECT", "streamId": COLLECT},
        }
        for component in ids
    ]
    return streams
