"""The lineage observer: in the process that runs an instance, what provenance keeps of each item it wrote.

It asks for items (``wants_items``), keeps the records of the chains the
run keeps (:func:`d4py.lineage.kept`) as plain tuples, with a preview of the
item and what the PE's ``item_metadata`` says of it, and reports them to the
driving process in batches of at most ``BATCH_RECORDS`` or ``REPORT_SECONDS``
worth, so that no report at the end carries a whole run.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from d4py import GenericPE
from d4py.lineage import RUN_INPUT
from d4py.observe import Activity, Observer
from d4py.runtime import InstanceInfo
from d4py_monitor.prov.model import preview

__all__ = ["BATCH_RECORDS", "REPORT_SECONDS", "LineageObserver", "LineageReport", "Row", "describe"]

BATCH_RECORDS = 10_000  # records that make an observer report before its interval is up
REPORT_SECONDS = 1.0

#: One item as it travels to the driver: (id, instance, port, parents, value preview, metadata).
Row = tuple[int, int, "str | None", tuple[int, ...], str, dict[str, Any]]


@dataclass
class LineageReport:
    """Items one instance wrote (and run inputs it read) since its last report; ``failure`` if a call raised.

    ``failure`` is (ids of the call's inputs, a preview of what it was called with).
    """

    rows: list[Row] = field(default_factory=list)
    failure: tuple[tuple[int, ...], str] | None = None


class LineageObserver(Observer):
    """Keeps one instance's lineage records; ``ports``: the outputs whose values and metadata are kept (None: all)."""

    wants_items = True

    def __init__(self, pe: GenericPE, info: InstanceInfo, ports: frozenset[str] | None) -> None:
        self.pe, self.index, self.ports = pe, info.index, ports
        self.pending = LineageReport()
        self.reported_at = time.monotonic()
        self.describes = type(pe).item_metadata is not GenericPE.item_metadata  # else no call per item

    def observe(self, activity: Activity) -> None:
        rows, index, ports, describes, pe = self.pending.rows, self.index, self.ports, self.describes, self.pe
        nothing: dict[str, Any] = {}  # shared by the rows without metadata: never changed
        for item_id, port, parents, item in activity.written:
            if not item_id & 1:  # not kept (d4py.lineage.kept), inline: this loop runs per item
                continue
            if port == "":  # a run input fed to a root: the root of every chain, always shown
                rows.append((item_id, RUN_INPUT, port, parents, preview(item), nothing))
            elif port is not None and (ports is None or port in ports):
                metadata = describe(pe, port, item) if describes else nothing
                rows.append((item_id, index, port, parents, preview(item), metadata))
            else:  # an item whose value is not kept, or the set of what postprocess derives from
                rows.append((item_id, index, port, parents, "", nothing))
        if activity.failed is not None:
            inputs, called_with = activity.failed
            self.pending.failure = (inputs, preview(called_with))

    def report(self, final: bool) -> LineageReport | None:
        pending = self.pending
        due = len(pending.rows) >= BATCH_RECORDS or time.monotonic() - self.reported_at >= REPORT_SECONDS
        if not (final or (due and (pending.rows or pending.failure))):
            return None
        self.pending, self.reported_at = LineageReport(), time.monotonic()
        return pending if (pending.rows or pending.failure) else None


def describe(pe: GenericPE, port: str, item: Any) -> dict[str, Any]:
    """What ``pe.item_metadata`` says of ``item``, as JSON values; ``{"error": ...}`` if it raised or said no dict.

    Values JSON cannot hold are kept as their preview; the run goes on whatever the method does.
    """
    try:
        metadata = pe.item_metadata(port, item)
        if metadata is None:
            return {}
        if not isinstance(metadata, Mapping):
            raise TypeError(f"item_metadata returned {type(metadata).__name__}, not a dict")
        document: dict[str, Any] = json.loads(json.dumps({str(k): v for k, v in metadata.items()}, default=preview))
        return document
    except Exception as error:
        return {"error": f"item_metadata of PE {pe.id} raised {type(error).__name__}: {error}"}
