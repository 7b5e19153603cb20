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
``Activity.written`` (a :class:`Written`, kept column by column), one record
per id of a kept chain (every id, unless the run is sampled):
``(id, port, parents, item)``.
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
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from itertools import count
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from d4py.plan import Plan

__all__ = ["RUN_INPUT", "Lineage", "Record", "Written", "count_of", "instance_number", "kept", "roots", "writer"]

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


class Written:
    """The records of kept chains an instance wrote, column by column: no object is made per item.

    Row ``r`` is item ``ids[r]``, written to ``ports[r]``, derived from
    ``parents[r]`` (0: from nothing), or from the ids ``several[r]`` when
    it has more than one parent; ``items[r]`` is the item. :meth:`records`
    gives the rows as :data:`Record` tuples.
    """

    __slots__ = ("ids", "items", "parents", "ports", "several")

    def __init__(self) -> None:
        self.ids = array("Q")
        self.ports: list[str | None] = []
        self.parents = array("Q")
        self.several: dict[int, tuple[int, ...]] = {}
        self.items: list[Any] = []

    def __len__(self) -> int:
        return len(self.ids)

    def add(self, item_id: int, port: str | None, parents: tuple[int, ...], item: Any) -> None:
        """Record one row."""
        if len(parents) > 1:
            self.several[len(self.ids)] = parents
        self.parents.append(parents[0] if len(parents) == 1 else 0)
        self.ids.append(item_id)
        self.ports.append(port)
        self.items.append(item)

    def parents_of(self, row: int) -> tuple[int, ...]:
        """The parents of row ``row``."""
        several = self.several.get(row)
        if several is not None:
            return several
        parent = self.parents[row]
        return (parent,) if parent else ()

    def records(self) -> Iterator[Record]:
        """Every row, as ``(id, port, parents, item)``."""
        for row, (item_id, port, item) in enumerate(zip(self.ids, self.ports, self.items, strict=True)):
            yield item_id, port, self.parents_of(row), item

    def take(self) -> Written:
        """A copy of the rows, leaving this one empty (its lists and arrays stay the same objects)."""
        taken = Written()
        taken.ids, taken.ports, taken.parents = array("Q", self.ids), list(self.ports), array("Q", self.parents)
        taken.several, taken.items = dict(self.several), list(self.items)
        del self.ids[:], self.parents[:]
        self.ports.clear()
        self.items.clear()
        self.several.clear()
        return taken


class Lineage:
    """One instance's lineage: the parents of what it writes now, what it has read, and the ids it hands out.

    ``number`` is the instance's number in ids, ``inputs_number`` that of its
    PE's run inputs (:func:`instance_number`); ``fraction`` is the share of
    chains kept (1.0: all). The runtime sets ``parent``, the id of the input
    being handled (0: none), around each call of the PE; ``named`` replaces
    it while a PE writes from parents it names. :meth:`next_id` gives the id
    of the next item written and records it in ``written``.
    """

    __slots__ = (
        "_ids",
        "_inputs",
        "_noted",
        "_read_set",
        "fraction",
        "named",
        "out",
        "parent",
        "postprocessing",
        "reads",
        "written",
    )

    def __init__(self, number: int, inputs_number: int, fraction: float, written: Written | None) -> None:
        self._inputs = inputs_number << _NUMBER_SHIFT
        # The ids handed out, with count 1, 2, ... above bit 0; in a run that keeps every chain, bit 0 set.
        self._ids = count((number << _NUMBER_SHIFT) | (1 << _COUNT_SHIFT) | (fraction >= 1.0), 1 << _COUNT_SHIFT)
        self.fraction = fraction
        self.parent = 0
        self.named: tuple[int, ...] | None = None
        self.out = 0  # the id of the item being sent
        self.postprocessing = False
        self.reads = array("Q")  # every id read, for what postprocess writes
        self._read_set = 0  # the id of the set of everything read, once postprocess has written
        self._noted: dict[Hashable, array[int]] = {}
        self.written = written

    @property
    def parents(self) -> tuple[int, ...]:
        """The ids what is written now derives from (as set; see :meth:`next_id` for ``postprocess``)."""
        if self.named is not None:
            return self.named
        return (self.parent,) if self.parent else ()

    def fed(self, index: int, inputs: Any) -> None:
        """A root is handling its run input ``index`` (of this PE's inputs, in plan order): record and read it.

        An empty one (a producer's call, an ``-i`` iteration) carries no data: what the call writes derives
        from nothing, so each item a producer writes is a root of its own (and sampled as one).
        """
        if not inputs:
            self.parent = 0
            return
        input_id = self._id(self._inputs | ((index + 1) << _COUNT_SHIFT), ())
        if self.written is not None and input_id & 1:
            self.written.add(input_id, "", (), inputs)
        self.reads.append(input_id)
        self.parent = input_id

    def next_id(self, port: str, item: Any) -> int:
        """The id of the item being written to ``port``; records it with its parents."""
        parents = self.parents
        if not parents and self.postprocessing and self.reads:
            parents = (self._everything_read(),)
        item_id = self.out = next(self._ids) if self.fraction >= 1.0 else self._id(next(self._ids), parents)
        written = self.written
        if written is not None and item_id & 1:  # only kept chains are recorded
            written.add(item_id, port, parents, item)
        return item_id

    def stamping(self, port: str, send: Callable[[Any, int], None]) -> Callable[[Any], None]:
        """A function that gives each item written to ``port`` its id (as :meth:`next_id`) and passes both to
        ``send``; an item written from one input or from nothing, in one call (the hot path of a traced run)."""
        next_id, written = self.next_id, self.written
        if written is None:

            def stamped(item: Any) -> None:
                send(item, next_id(port, item))

            return stamped
        ids, every, threshold = self._ids, self.fraction >= 1.0, _root_threshold(self.fraction)
        add_id, add_parent = written.ids.append, written.parents.append
        add_port, add_item = written.ports.append, written.items.append

        def stamped_and_recorded(item: Any) -> None:
            if self.named is not None or self.postprocessing:  # parents named, or all that was read
                send(item, next_id(port, item))
                return
            parent, item_id = self.parent, next(ids)
            if not every:  # kept with its parent, or (a root) by its id
                item_id |= parent & 1 if parent else _kept_root(item_id, threshold)
            if item_id & 1:
                add_id(item_id)
                add_port(port)
                add_parent(parent)
                add_item(item)
            send(item, item_id)

        return stamped_and_recorded

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
        """One record, made once, for the set of all reads: what ``postprocess`` writes derive from by default."""
        if not self._read_set:
            reads = tuple(self.reads)
            self._read_set = self._id(next(self._ids), reads)
            if self.written is not None and self._read_set & 1:
                self.written.add(self._read_set, None, reads, None)
        return self._read_set

    def _id(self, unkept: int, parents: Iterable[int]) -> int:
        if self.fraction >= 1.0:
            return unkept | 1
        if parents:
            return unkept | any(parent & 1 for parent in parents)
        return unkept | _kept_root(unkept, _root_threshold(self.fraction))


_MIX = 0x9E3779B97F4A7C15  # 2**64 / the golden ratio: multiplying by it spreads consecutive ids over 64 bits
_MASK = (1 << 64) - 1


def _root_threshold(fraction: float) -> int:
    return int(fraction * (1 << 24))


def _kept_root(unkept: int, threshold: int) -> int:
    """1 if the chain rooted at id ``unkept`` is kept (the top 24 bits of its mixed id under ``threshold``), else 0.

    Plain integer arithmetic: the same in every interpreter, so every backend keeps the same chains.
    """
    return int((((unkept * _MIX) & _MASK) >> 40) < threshold)


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
