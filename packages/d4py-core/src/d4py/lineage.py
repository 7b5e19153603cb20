"""Lineage: an id for every item a traced run writes, and the ids it derives from.

When a plugin asks for it (``d4py_trace``), a run is *traced*: every
instance gives each item it writes an id, made of the instance's number in
the plan and how many items it has written, and items carry their id to the
instances that read them, in whatever process. An item written while the
instance handles an input derives from that input; items written in
``preprocess``, or by a root whose run input carries no data (a producer,
an ``-i`` iteration), derive from nothing; items written in ``postprocess``
derive from everything the instance read, unless the PE names other parents
(``GenericPE.note_input`` and ``GenericPE.write_derived``). A run input that
carries data (``-d``, ``-f``) has an id too.

Observers that ask for items (``Observer.wants_items``) receive, in
``Activity.written``, one record per id of a kept chain (every id, unless the
run is sampled): ``(id, port, parents, item)``.
``port`` is the output written; ``""`` for a run input fed to a root (its
``item`` is the inputs mapping); ``None`` for the set of everything an
instance read, which its ``postprocess`` writes derive from (``item`` is
None). The user's items are never changed: ids travel beside them.

*Sampled* tracing keeps a fraction of lineage chains whole: an item that
derives from nothing is kept with that probability (decided by its id, so
the same items are kept on every backend), and an item is kept when any of
its parents is. Ids say whether they are kept (:func:`kept`); observers
store only those.
"""

from __future__ import annotations

from array import array
from collections.abc import Hashable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from d4py.groupings import stable_digest

if TYPE_CHECKING:
    from d4py.plan import Plan

__all__ = ["RUN_INPUT", "Lineage", "Record", "count_of", "instance_number", "kept", "roots", "writer"]

Record = tuple[int, "str | None", tuple[int, ...], Any]  # (id, port, parents, item)
RUN_INPUT = -1  # the "instance" of a root PE's run inputs
_COUNT_SHIFT = 1  # bit 0 of an id says whether its chain is kept
_NUMBER_SHIFT = 41  # an instance writes up to 2**40 items
_INDEX_BITS = 12  # of an instance number: the instance's index (+1), pool copies included; above: the PE's position


def instance_number(plan: Plan, pe_id: str, index: int) -> int:
    """The number in ids of instance ``index`` of ``pe_id`` (``RUN_INPUT``: its run inputs; a pool's copies too)."""
    if not RUN_INPUT <= index < (1 << _INDEX_BITS) - 1:
        raise ValueError(f"instance {index} of PE '{pe_id}': lineage ids number at most 4,094 instances of a PE")
    return (list(plan.nodes).index(pe_id) << _INDEX_BITS) | (index + 1)


def writer(plan: Plan, item_id: int) -> tuple[str, int, int]:
    """Who wrote ``item_id`` and when: (PE, instance index or ``RUN_INPUT``, :func:`count_of` the id)."""
    number = item_id >> _NUMBER_SHIFT
    return list(plan.nodes)[number >> _INDEX_BITS], (number & ((1 << _INDEX_BITS) - 1)) - 1, count_of(item_id)


def count_of(item_id: int) -> int:
    """Which of its writer's ids ``item_id`` is: 1 for the first (a root's run inputs count apart)."""
    return (item_id & ((1 << _NUMBER_SHIFT) - 1)) >> _COUNT_SHIFT


def kept(item_id: int) -> bool:
    """Whether the item belongs to a lineage chain the run keeps (always, unless tracing is sampled)."""
    return bool(item_id & 1)


class Lineage:
    """One instance's lineage: the parents of what it writes now, what it has read, and the ids it hands out.

    ``number`` is the instance's number in ids, ``inputs_number`` that of its
    PE's run inputs (:func:`instance_number`); ``fraction`` is the share of
    chains kept (1.0: all). The runtime sets
    ``parents`` around each call of the PE; ``next_id`` gives the id of the
    next item written and records it in ``written``.
    """

    __slots__ = (
        "_base",
        "_count",
        "_inputs",
        "_noted",
        "fraction",
        "out",
        "parents",
        "postprocessing",
        "reads",
        "written",
    )

    def __init__(self, number: int, inputs_number: int, fraction: float, written: list[Record] | None) -> None:
        self._base = number << _NUMBER_SHIFT
        self._inputs = inputs_number << _NUMBER_SHIFT
        self._count = 0
        self.fraction = fraction
        self.parents: tuple[int, ...] = ()
        self.out = 0  # the id of the item being sent
        self.postprocessing = False
        self.reads = array("Q")  # every id read, for what postprocess writes
        self._noted: dict[Hashable, array[int]] = {}
        self.written = written

    def read(self, item_id: int) -> None:
        """Note that ``item_id`` was read: what is written until the next read derives from it."""
        self.reads.append(item_id)
        self.parents = (item_id,)

    def fed(self, index: int, inputs: Any) -> None:
        """A root is handling its run input ``index`` (of this PE's inputs, in plan order): record and read it.

        An empty one (a producer's call, an ``-i`` iteration) carries no data: what the call writes derives
        from nothing, so each item a producer writes is a root of its own (and sampled as one).
        """
        if not inputs:
            self.parents = ()
            return
        input_id = self._id(self._inputs | ((index + 1) << _COUNT_SHIFT), ())
        if self.written is not None and input_id & 1:
            self.written.append((input_id, "", (), inputs))
        self.read(input_id)

    def next_id(self, port: str, item: Any) -> int:
        """The id of the item being written to ``port``; records it with its parents."""
        parents = self.parents
        if not parents and self.postprocessing and self.reads:
            parents = self.parents = (self._everything_read(),)
        self._count = count = self._count + 1
        unkept = self._base | (count << _COUNT_SHIFT)
        item_id = self.out = unkept | 1 if self.fraction >= 1.0 else self._id(unkept, parents)
        written = self.written
        if written is not None and item_id & 1:  # only kept chains are recorded
            written.append((item_id, port, parents, item))
        return item_id

    def note(self, key: Hashable) -> None:
        """The input being handled counts toward ``key`` (``GenericPE.note_input``)."""
        noted = self._noted.get(key)
        if noted is None:
            noted = self._noted[key] = array("Q")
        noted.extend(self.parents)

    def derived(self, key: Hashable) -> tuple[int, ...]:
        """The inputs noted under ``key``, as parents; they stay noted."""
        return tuple(self._noted.get(key, ()))

    def _everything_read(self) -> int:
        """One record for the set of all reads so far: what ``postprocess`` writes derive from by default."""
        reads = tuple(self.reads)
        self._count += 1
        set_id = self._id(self._base | (self._count << _COUNT_SHIFT), reads)
        if self.written is not None and set_id & 1:
            self.written.append((set_id, None, reads, None))
        return set_id

    def _id(self, unkept: int, parents: Iterable[int]) -> int:
        if self.fraction >= 1.0:
            return unkept | 1
        if parents:
            return unkept | any(parent & 1 for parent in parents)
        return unkept | (stable_digest(unkept) % 1_000_000 < self.fraction * 1_000_000)


def roots(
    records: Mapping[int, Record], item_id: int, known: dict[int, frozenset[int]] | None = None
) -> frozenset[int]:
    """The ids of the root inputs ``item_id`` derives from, through ``records`` (id -> record).

    A root is a run input that carries data (``-d``, ``-f``), or an item
    written from nothing (a producer's). ``known`` caches what earlier calls
    found, for many calls over one run. Parents missing from ``records`` (chains a sampled
    run did not keep) are skipped.
    """
    known = {} if known is None else known
    stack = [item_id]
    while stack:
        current = stack[-1]
        if current in known:
            stack.pop()
            continue
        parents = [parent for parent in records[current][2] if parent in records]
        if not parents:
            known[current] = frozenset({current})
            stack.pop()
            continue
        missing = [parent for parent in parents if parent not in known]
        if missing:
            stack.extend(missing)
            continue
        known[current] = frozenset().union(*(known[parent] for parent in parents))
        stack.pop()
    return known[item_id]
