"""What is kept of a traced run's lineage: an :class:`ItemRecord` per item, and the run's failed calls.

Built from the records core's lineage (:mod:`d4py.lineage`) hands the run's
observers, stored beside the run's :class:`~d4py_monitor.record.RunRecord`
(same run id), and read back by ``d4py prov``, the exports and the
dashboard. Plain data, converted to and from JSON documents here, so that
every store keeps the same fields.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from d4py.lineage import roots

__all__ = ["PREVIEW_CHARS", "Failure", "ItemRecord", "RunLineage", "preview"]

PREVIEW_CHARS = 200  # the longest preview of an item kept


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
class RunLineage:
    """The lineage kept of one run: ``level`` ``run``, ``sampled`` or ``full``; ``share`` of chains kept."""

    run_id: str
    level: str
    share: float
    items: dict[int, ItemRecord] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)

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
