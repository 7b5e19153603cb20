"""What is kept of a traced run's lineage: an :class:`ItemRecord` per item, and the run's failed calls.

Built from the records core's lineage (:mod:`d4py.lineage`) hands the run's
observers, stored beside the run's :class:`~d4py_monitor.record.RunRecord`
(same run id), and read back by ``d4py prov``, the exports and the
dashboard. Plain data, converted to and from JSON documents here, so that
every store keeps the same fields.
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from itertools import groupby, repeat
from typing import Any

from d4py.lineage import RUN_INPUT, Written, roots

__all__ = ["BATCH_ROWS", "PREVIEW_CHARS", "Failure", "ItemBatch", "ItemRecord", "RunLineage", "preview"]

PREVIEW_CHARS = 200  # the longest preview of an item kept
BATCH_ROWS = 10_000  # items a stored batch holds, at most (a MongoDB document holds 16 MiB)


def preview(item: Any) -> str:
    """A short, readable form of ``item``: its ``repr`` (its ``str`` if only that is its class's own), cut to
    :data:`PREVIEW_CHARS` characters."""
    kind: Any = type(item)
    try:
        # An object whose repr is object's ("<Trace object at 0x...>") but whose str says what it holds: the str.
        text = str(item) if kind.__repr__ is object.__repr__ and kind.__str__ is not object.__str__ else repr(item)
    except Exception as error:  # a user's __repr__ may raise: the run goes on
        text = f"<{type(item).__name__}: repr failed: {type(error).__name__}>"
    return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 3] + "..."


@dataclass(slots=True)
class ItemRecord:
    """One item of a run, as lineage knows it.

    ``id`` is core's lineage id. ``instance`` is the writing PE instance,
    or ``d4py.lineage.RUN_INPUT`` (-1) for a run input fed to root ``pe``.
    ``port`` is the output written (``""``: a run input; ``None``: the set of
    everything the instance read, which its ``postprocess`` writes derive
    from, not an item). ``output`` says it was written to an unconnected
    output (a result of the run). ``metadata`` is what the PE's
    ``item_metadata`` said of it (JSON values).
    """

    id: int
    pe: str
    instance: int
    port: str | None
    parents: tuple[int, ...]
    value: str
    output: bool = False
    metadata: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        document = asdict(self)
        document["parents"] = list(self.parents)
        return document

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> ItemRecord:
        return cls(**{**document, "parents": tuple(document["parents"])})


@dataclass(frozen=True)
class Failure:
    """A call that raised: which instance, the ids of its inputs, what it was called with, the error."""

    pe: str
    instance: int
    inputs: tuple[int, ...]
    value: str
    error: str = ""

    def to_json(self) -> dict[str, Any]:
        document = asdict(self)
        document["inputs"] = list(self.inputs)
        return document

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> Failure:
        return cls(**{**document, "inputs": tuple(document["inputs"])})


@dataclass
class ItemBatch:
    """Items of one PE instance, column by column, as a run's observers reported them and stores keep them.

    ``rows`` are core's columns (:class:`d4py.lineage.Written`) with each
    item's preview in place of the item. A row's instance is ``instance``,
    or ``RUN_INPUT`` for a run input (port ``""``); it is an output of the run
    when its port is in ``outputs``; ``metadata`` holds what the PE said of a row.
    """

    pe: str
    instance: int
    rows: Written
    outputs: frozenset[str] = frozenset()
    metadata: dict[int, dict[str, Any]] = field(default_factory=dict)

    def records(self) -> Iterator[ItemRecord]:
        """Each row as an :class:`ItemRecord`."""
        return (self.record(row) for row in range(len(self.rows)))

    def record(self, row: int) -> ItemRecord:
        """Row ``row`` as an :class:`ItemRecord`."""
        rows = self.rows
        port = rows.ports[row]
        instance = RUN_INPUT if port == "" else self.instance
        metadata = self.metadata.get(row, _NOTHING)
        parents = rows.parents_of(row)
        return ItemRecord(
            rows.ids[row], self.pe, instance, port, parents, rows.items[row], port in self.outputs, metadata
        )

    def pack(self) -> tuple[bytes, bytes, dict[str, Any]]:
        """The batch as a store keeps it: ids and parents as 8-byte little-endian integers, the rest JSON values."""
        rows = self.rows
        document = {
            "ports": [[port, len(list(run))] for port, run in groupby(rows.ports)],
            "several": [[row, list(parents)] for row, parents in rows.several.items()],
            "values": rows.items,
            "outputs": sorted(self.outputs),
            "metadata": [[row, metadata] for row, metadata in self.metadata.items()],
        }
        return _little_endian(rows.ids), _little_endian(rows.parents), document

    @classmethod
    def unpack(cls, pe: str, instance: int, ids: bytes, parents: bytes, document: dict[str, Any]) -> ItemBatch:
        """A batch from what :meth:`pack` gave; a ValueError, KeyError or TypeError if it is damaged."""
        rows = Written()
        rows.ids, rows.parents = _from_little_endian(ids), _from_little_endian(parents)
        rows.ports = [port for port, times in document["ports"] for port in repeat(port, times)]
        rows.several = {int(row): tuple(parents) for row, parents in document["several"]}
        rows.items = [str(value) for value in document["values"]]
        if not len(rows.ids) == len(rows.parents) == len(rows.ports) == len(rows.items):
            raise ValueError(f"a batch of PE {pe}'s items has columns of different lengths")
        metadata = {int(row): dict(described) for row, described in document["metadata"]}
        return cls(pe, instance, rows, frozenset(document["outputs"]), metadata)

    def split(self, most: int) -> list[ItemBatch]:
        """This batch in pieces of at most ``most`` rows (a store's documents have a size limit)."""
        if len(self.rows) <= most:
            return [self]
        pieces = []
        for first in range(0, len(self.rows), most):
            rows, last = Written(), first + most
            rows.ids, rows.parents = self.rows.ids[first:last], self.rows.parents[first:last]
            rows.ports, rows.items = self.rows.ports[first:last], self.rows.items[first:last]
            rows.several = {r - first: p for r, p in self.rows.several.items() if first <= r < last}
            metadata = {r - first: m for r, m in self.metadata.items() if first <= r < last}
            pieces.append(ItemBatch(self.pe, self.instance, rows, self.outputs, metadata))
        return pieces

    @classmethod
    def of(cls, records: list[ItemRecord]) -> ItemBatch:
        """One batch of ``records``, all of one PE and instance (or run inputs of one PE)."""
        rows, metadata = Written(), {}
        for row, record in enumerate(records):
            rows.add(record.id, record.port, record.parents, record.value)
            if record.metadata:
                metadata[row] = record.metadata
        instance = next((r.instance for r in records if r.port != ""), RUN_INPUT)
        outputs = frozenset(r.port for r in records if r.output and r.port)
        return cls(records[0].pe, instance, rows, outputs, metadata)


_NOTHING: dict[str, Any] = {}  # the metadata of the items a PE said nothing of: shared, never changed


def _little_endian(numbers: array[int]) -> bytes:
    if sys.byteorder == "little":
        return numbers.tobytes()
    swapped = array("Q", numbers)
    swapped.byteswap()
    return swapped.tobytes()


def _from_little_endian(data: bytes) -> array[int]:
    numbers = array("Q")
    numbers.frombytes(data)
    if sys.byteorder != "little":
        numbers.byteswap()
    return numbers


class RunLineage:
    """The lineage kept of one run: ``level`` ``run``, ``sampled`` or ``full``; ``share`` of chains kept.

    Made from its ``items`` (id -> record), or from ``batches`` as the run
    reported them and stores keep them; either is made from the other when
    asked for. Once ``items`` is read, it is what the lineage holds (a
    caller may change it).
    """

    def __init__(
        self,
        run_id: str,
        level: str,
        share: float,
        items: dict[int, ItemRecord] | None = None,
        failures: list[Failure] | None = None,
        batches: list[ItemBatch] | None = None,
    ) -> None:
        self.run_id, self.level, self.share = run_id, level, share
        self.failures = failures if failures is not None else []
        self._items = items if items is not None or batches is not None else {}
        self._batches = batches if items is None else None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RunLineage):
            return NotImplemented
        mine = (self.run_id, self.level, self.share, self.failures, self.items)
        return mine == (other.run_id, other.level, other.share, other.failures, other.items)

    def __repr__(self) -> str:
        return f"RunLineage({self.run_id!r}, {self.level!r}, {self.share!r})"

    @property
    def items(self) -> dict[int, ItemRecord]:
        """Every item kept, by id."""
        if self._items is None:
            assert self._batches is not None
            self._items = {record.id: record for batch in self._batches for record in batch.records()}
            self._batches = None
        return self._items

    def batches(self) -> list[ItemBatch]:
        """The items, in batches of one PE instance each."""
        if self._batches is not None:
            return self._batches
        groups: dict[tuple[str, int], list[ItemRecord]] = {}
        for _, record in sorted(self.items.items()):
            groups.setdefault((record.pe, record.instance), []).append(record)
        return [ItemBatch.of(records) for records in groups.values()]

    def roots_of(self, item_id: int, known: dict[int, frozenset[int]] | None = None) -> list[ItemRecord]:
        """The root inputs ``item_id`` derives from (run inputs with data, producers' items), in id order."""
        plain = {i: (i, r.port, r.parents, r.value) for i, r in self.items.items()}
        return [self.items[root] for root in sorted(roots(plain, item_id, known))]

    def outputs(self) -> list[ItemRecord]:
        """The items written to unconnected outputs, in id order."""
        return [record for _, record in sorted(self.items.items()) if record.output]

    def explain(self) -> list[dict[str, Any]]:
        """For each output item: ``{"pe", "port", "item", "roots": [{"pe", "item"}, ...]}`` (``d4py prov explain``)."""
        known: dict[int, frozenset[int]] = {}
        return [
            {
                "pe": record.pe,
                "port": record.port,
                "item": record.value,
                "roots": [{"pe": root.pe, "item": root.value} for root in self.roots_of(record.id, known)],
            }
            for record in self.outputs()
        ]

    def impact(self, item_id: int) -> list[ItemRecord]:
        """The output items that derive from ``item_id`` (itself, if it is one), in id order."""
        children: dict[int, list[int]] = {}
        for record in self.items.values():
            for parent in record.parents:
                children.setdefault(parent, []).append(record.id)
        seen, stack = {item_id}, [item_id]
        while stack:
            for child in children.get(stack.pop(), []):
                if child not in seen:
                    seen.add(child)
                    stack.append(child)
        return [self.items[i] for i in sorted(seen) if i in self.items and self.items[i].output]

    def to_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "level": self.level,
            "share": self.share,
            "items": [record.to_json() for _, record in sorted(self.items.items())],
            "failures": [failure.to_json() for failure in self.failures],
        }

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> RunLineage:
        items = [ItemRecord.from_json(item) for item in document["items"]]
        return cls(
            document["run_id"],
            document["level"],
            document["share"],
            {item.id: item for item in items},
            [Failure.from_json(failure) for failure in document["failures"]],
        )
