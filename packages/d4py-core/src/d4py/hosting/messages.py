"""The messages hosts and drivers exchange: tuples whose first field is a kind.

Between hosts: ``(ITEM, edge, target instance, item)``, in a traced run
``(TRACED, edge, target instance, (item, lineage id))``, and ``(END, edge,
target instance, source instance)``. From a host to the driver: ``(OUTPUT, pe
id, port, item)``, ``(PROGRESS, worker, counts so far)``, ``(REPORT, pe id,
index, instances, final, reports)``, then ``(DONE, worker, counts)`` or ``(FAILED, worker,
error)``. A backend numbers kinds of its own from :data:`FIRST_BACKEND_KIND`.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "DONE",
    "END",
    "FAILED",
    "FIRST_BACKEND_KIND",
    "ITEM",
    "ITEMS",
    "OUTPUT",
    "PROGRESS",
    "REPORT",
    "TRACED",
    "Batch",
    "Message",
]

ITEM, END, OUTPUT, DONE, FAILED, PROGRESS, REPORT, TRACED = range(8)
ITEMS = frozenset({ITEM, TRACED})  # the kinds that carry an item for an instance
FIRST_BACKEND_KIND = 16  # clear of core's present and future kinds

Message = tuple[Any, ...]
Batch = list[Message]
