"""One item's ancestry, for the lineage page: the items it derives from, nearest first, and the links between.

Ids are sent as text: they are 64-bit, past what a JavaScript number holds
exactly.
"""

from __future__ import annotations

from typing import Any

from d4py_monitor.dashboard.pages import item_json
from d4py_monitor.prov.model import RunLineage

__all__ = ["ANCESTRY_LIMIT", "ancestry"]

ANCESTRY_LIMIT = 300  # the most items one ancestry drawing shows, nearest the item first


def ancestry(lineage: RunLineage, item_id: int, limit: int = ANCESTRY_LIMIT) -> dict[str, Any]:
    """The items ``item_id`` derives from, nearest first up to ``limit``, with the links between them.

    Each item has its ``depth``: 0 for the item, 1 for its parents, and so on.
    """
    depth = {item_id: 0}
    order, edges, truncated = [item_id], [], False
    for current in order:  # breadth first: grows while it is walked
        for parent in lineage.items[current].parents:
            if parent not in lineage.items:
                continue  # not kept (a sampled run)
            edges.append((parent, current))
            if parent not in depth:
                if len(order) >= limit:
                    truncated = True
                    continue
                depth[parent] = depth[current] + 1
                order.append(parent)
    return {
        "nodes": [{**item_json(lineage.items[i]), "depth": depth[i]} for i in order],
        "edges": [[str(a), str(b)] for a, b in edges if a in depth and b in depth],
        "truncated": truncated,
    }
