"""The lineage observer: in the process that runs an instance, what provenance keeps of each item it wrote.

It asks for items (``wants_items``), keeps the records of the chains the
run keeps (:func:`d4py.lineage.kept`) column by column, as core gives them,
with a preview of each item and what the PE's ``item_metadata`` says of it
(no object is made per item but its preview), and reports them to the
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
from d4py.lineage import Written
from d4py.observe import Activity, Observer
from d4py.runtime import InstanceInfo
from d4py_monitor.prov.model import preview

__all__ = ["BATCH_RECORDS", "REPORT_SECONDS", "LineageObserver", "LineageReport", "describe"]

BATCH_RECORDS = 10_000  # records that make an observer report before its interval is up
REPORT_SECONDS = 1.0


@dataclass
class LineageReport:
    """Items one instance wrote (and run inputs it read) since its last report; ``failure`` if a call raised.

    ``rows`` are core's records, column by column, with a preview of each
    item in place of the item (``""``: its value is not kept); ``metadata``
    what the PE's ``item_metadata`` said of a row, for the rows it said
    something of. ``failure`` is (ids of the call's inputs, a preview of what
    it was called with).
    """

    rows: Written = field(default_factory=Written)
    metadata: dict[int, dict[str, Any]] = field(default_factory=dict)
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
        written = activity.written  # kept chains only (d4py.lineage.kept): core records no others
        if written:
            self._keep(written)
        if activity.failed is not None:
            inputs, called_with = activity.failed
            self.pending.failure = (inputs, preview(called_with))

    def _keep(self, written: Written) -> None:
        """Add ``written`` to the pending rows, items made previews (metadata asked for) where their values are kept.

        A run input (port ``""``) is always shown; a set of inputs (port None) has no value.
        """
        rows, ports, shown = self.pending.rows, written.ports, self.ports
        first = len(rows)
        if shown is None:
            values = [
                preview(item) if port is not None else "" for port, item in zip(ports, written.items, strict=True)
            ]
        else:
            values = [
                preview(item) if port == "" or (port is not None and port in shown) else ""
                for port, item in zip(ports, written.items, strict=True)
            ]
        if self.describes:
            for row, (port, item) in enumerate(zip(ports, written.items, strict=True)):
                if port and (shown is None or port in shown):
                    metadata = describe(self.pe, port, item)
                    if metadata:
                        self.pending.metadata[first + row] = metadata
        rows.ids.extend(written.ids)
        rows.ports.extend(ports)
        rows.parents.extend(written.parents)
        rows.several.update((first + row, parents) for row, parents in written.several.items())
        rows.items.extend(values)

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
