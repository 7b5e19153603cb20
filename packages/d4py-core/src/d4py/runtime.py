"""The shared runtime: the loop that drives one PE instance, on every backend.

An :class:`Instance` owns the lifecycle (preprocess, process per item,
postprocess once every upstream instance has ended), routes what the PE
writes according to the plan, and counts end-of-stream per edge and upstream
instance. A backend supplies a :class:`Transport` that moves items and
end-of-stream marks between instances; it never decides where they go.
Every instance counts what it reads per receiver and what it sends per
destination in :class:`~d4py.observe.Tally` counters; instances with
observers (:mod:`d4py.observe`) hand those to them in batches, with the
time a :class:`~d4py.observe.Sampler` charged them.
"""

from __future__ import annotations

import copy
import itertools
import traceback
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from d4py import lineage, observe
from d4py._exceptions import D4pyError, GraphError, PEFailure, TypeContractError, describe_item
from d4py.contracts import check_item, is_checkable, type_name
from d4py.groupings import stable_digest
from d4py.lineage import RUN_INPUT, Lineage, instance_number
from d4py.observe import Activity, KeyWindow, Observer, Sampler, Tally, tallied, tally_of
from d4py.pe import TYPE, ConsumerPE, GenericPE, IterativePE
from d4py.plan import Edge, Plan

__all__ = ["Instance", "InstanceInfo", "ProcessFunction", "Transport", "instantiate"]

Send = Callable[[Any], None]
TracedSend = Callable[[Any, int], None]  # (item, its lineage id)
_MEMO_TYPES = (str, bytes, int)
_MEMO_SIZE = 1 << 16
# Frames a PE's traceback starts with that are d4py's, not the user's.
_OWN_FILES = frozenset({__file__, observe.__file__, lineage.__file__})
ProcessFunction = Callable[[dict[str, Any]], Any]
Wrapper = Callable[[ProcessFunction], ProcessFunction]


class Transport(Protocol):
    """How a backend moves items and end-of-stream marks between instances."""

    def deliver(self, edge: Edge, target: int) -> Send:
        """Return a function that sends one item over ``edge`` to instance ``target``."""

    def deliver_traced(self, edge: Edge, target: int) -> TracedSend:
        """As ``deliver``, for a traced run: the function also takes the item's lineage id, which must reach
        the receiving instance's :meth:`Instance.traced_receiver` with the item."""

    def end(self, edge: Edge, target: int, source: int) -> None:
        """Tell instance ``target`` that instance ``source`` sends nothing more over ``edge``."""

    def collect(self, pe_id: str, port: str) -> Send:
        """Return a function that keeps one item written to an unconnected output."""

    def report(self, info: InstanceInfo, final: bool, reports: list[Any]) -> None:
        """Carry what an instance's observers reported to the driving process."""


class InstanceInfo:
    """Which instance of which PE a hook is looking at."""

    __slots__ = ("index", "instances", "pe_id")

    def __init__(self, pe_id: str, index: int, instances: int) -> None:
        self.pe_id, self.index, self.instances = pe_id, index, instances

    def __repr__(self) -> str:
        return f"InstanceInfo({self.pe_id!r}, {self.index}/{self.instances})"


def instantiate(prototype: GenericPE, count: int) -> list[GenericPE]:
    """Return ``count`` independent copies of ``prototype``; the user's object stays untouched."""
    try:
        return [copy.deepcopy(prototype) for _ in range(count)]
    except Exception as error:
        raise GraphError(
            f"PE '{prototype.id}' cannot be copied into instances ({type(error).__name__}: {error}); "
            "open files, connections and locks in preprocess() rather than __init__()"
        ) from error


def _has_direct_path(pe: GenericPE) -> bool:
    """Whether ``pe`` keeps the stock one-port ``process``, so items can go straight to ``_process``."""
    if isinstance(pe, IterativePE) and type(pe).process is IterativePE.process:
        return pe.INPUT_NAME in pe.inputconnections and pe.OUTPUT_NAME in pe.outputconnections
    if isinstance(pe, ConsumerPE) and type(pe).process is ConsumerPE.process:
        return pe.INPUT_NAME in pe.inputconnections
    return False


class Instance:
    """One running copy of a PE: lifecycle, routing and end-of-stream counting."""

    def __init__(
        self,
        plan: Plan,
        pe_id: str,
        index: int,
        pe: GenericPE,
        transport: Transport,
        wrappers: list[Wrapper] | None = None,
        observers: list[Observer] | None = None,
        sampler: Sampler | None = None,
    ) -> None:
        self.plan, self.pe_id, self.index, self.pe = plan, pe_id, index, pe
        self.info = InstanceInfo(pe_id, index, plan.nodes[pe_id].instances)
        self.transport = transport
        # Which copy this is, for PEs that split work among their instances themselves.
        pe._run_as(index, plan.nodes[pe_id].instances, self._undeclared)
        self.finished = False
        self._awaiting = plan.expected_ends(pe_id, index)
        self._process: ProcessFunction = pe.process
        for wrap in wrappers or []:
            self._process = wrap(self._process)
        self.observers = observers or []
        self.activity = Activity() if self.observers else None
        self.lineage: Lineage | None = None
        if plan.trace:
            wanted = self.activity is not None and any(observer.wants_items for observer in self.observers)
            written = self.activity.written if wanted and self.activity is not None else None
            number, inputs = instance_number(plan, pe_id, index), instance_number(plan, pe_id, RUN_INPUT)
            self.lineage = Lineage(number, inputs, plan.trace, written)
            pe._lineage = self.lineage
        self._sampler = sampler if self.activity is not None else None
        if sampler is not None and self.activity is not None:
            sampler.watch(pe, self.activity)
        elif sampler is not None:
            sampler.know(pe)
        # The direct path skips the inputs dict and the returned mapping: the hot path of most pipelines.
        self._direct = _has_direct_path(pe) and not wrappers and not plan.check_types
        self._received: list[tuple[str, Tally]] = []  # one tally per receiver handed out, with its port
        self._fed = Tally()  # a root's calls
        # What went where: per (output, destination PE, its instance, its input), and which of these a port's
        # writes are counted from (its first edge's destinations: one item reaches one of them, or all with "all").
        self._sent: dict[tuple[str, str, int, str], Tally] = {}
        self._writes_from: dict[str, tuple[list[tuple[str, str, int, str]], bool]] = {}
        self._collected: dict[str, Tally] = {}  # unconnected outputs
        # Group keys counted per (output, destination PE, its input): the window, the key -> instance memo, instances.
        self._keys: dict[tuple[str, str, str], tuple[KeyWindow, dict[Any, int], int]] = {}
        self._seen: dict[Any, int] = {}  # what observers were handed already, per counter
        self.reported_final = False  # whether the observers have had their last batch

    @property
    def count(self) -> int:
        """Items this instance has processed: every read, and a root's calls."""
        return self._fed.items + sum(tally.items for _, tally in self._received)

    def connect(self) -> None:
        """Install the PE's emitters; call once every instance can be delivered to."""
        self.pe._emitters = {port: self._emitter(port) for port in self.pe.outputconnections}

    def start(self) -> None:
        """Run ``preprocess``."""
        self._call("preprocess", self.pe.preprocess)

    def receiver(self, port: str) -> Send:
        """Return the function that hands one item arriving on ``port`` to the PE."""
        tally = Tally()
        self._received.append((port, tally))
        if self._direct:
            return tallied(self._direct_receiver(tally), tally)
        process, write, fail = self._process, self.pe.write, self._failure
        check = self._input_check(port)

        def receive(item: Any) -> None:
            tally.items += 1
            if check is not None:
                check(item)
            inputs = {port: item}
            try:
                result = process(inputs)
            except D4pyError:
                raise
            except Exception as error:
                raise fail("process", inputs, error) from error
            if result is not None:
                for name, value in result.items():
                    write(name, value)

        return tallied(receive, tally)

    def traced_receiver(self, port: str) -> TracedSend:
        """In a traced run, the function that hands one item arriving on ``port`` to the PE, with its id."""
        lineage = self.lineage
        assert lineage is not None, "traced_receiver() in a run that is not traced"
        receive, note_read = self.receiver(port), lineage.reads.append

        def traced(item: Any, item_id: int) -> None:
            # Restored after: a cycle may bring an item back here while the PE handles another.
            parent, named, out = lineage.parent, lineage.named, lineage.out
            note_read(item_id)
            lineage.parent, lineage.named = item_id, None
            try:
                receive(item)
            finally:
                lineage.parent, lineage.named, lineage.out = parent, named, out

        tally = tally_of(receive)  # what senders here count as sent: the reads themselves
        return tallied(traced, tally) if tally is not None else traced

    def _direct_receiver(self, tally: Tally) -> Send:
        # Skip the inputs dict and the returned mapping: the hot path of most pipelines.
        function, port, fail = self.pe._process, self.pe.INPUT_NAME, self._failure  # type: ignore[attr-defined]
        emit = self.pe._emitters[self.pe.OUTPUT_NAME] if isinstance(self.pe, IterativePE) else None

        def receive(item: Any) -> None:
            tally.items += 1
            try:
                result = function(item)
            except D4pyError:
                raise
            except Exception as error:
                raise fail("process", {port: item}, error) from error
            if result is not None and emit is not None:
                emit(result)

        return receive

    def feed(self, inputs: Mapping[str, Any], turn: int = 0) -> None:
        """Call the PE with run input ``turn`` of its PE's inputs (roots only); observers count it as read on
        port ``''``."""
        self._fed.items += 1
        if self.lineage is not None:
            self.lineage.fed(turn, inputs)
        try:
            result = self._process(dict(inputs))
        except D4pyError:
            raise
        except Exception as error:
            raise self._failure("process", dict(inputs), error) from error
        if result is not None:
            for name, value in result.items():
                self.pe.write(name, value)

    def end_of_input(self, edge_index: int, source: int) -> None:
        """Record that one upstream instance has ended; finish when all have."""
        self._awaiting.discard((edge_index, source))
        if not self._awaiting and not self.finished:
            self.finish()

    @property
    def ready(self) -> bool:
        """Whether every upstream instance has ended (always true for roots)."""
        return not self._awaiting

    def finish(self) -> None:
        """Run ``postprocess``, send end-of-stream downstream, and give observers their last batch."""
        self.finished = True
        if self.lineage is not None:
            self.lineage.parent, self.lineage.named, self.lineage.postprocessing = 0, None, True
        self._call("postprocess", self.pe.postprocess)
        for edge, target in self.plan.sent_ends(self.pe_id, self.index):
            self.transport.end(edge, target, self.index)
        self.observe(final=True)

    def give_up(self) -> None:
        """Give the observers their last batch, if they have not had it: the run has failed."""
        if self.activity is not None and not self.reported_final:
            self.observe(final=True)

    def discard(self) -> None:
        """Drop what this instance read, wrote and sent since its observers last heard; keep the time it took,
        and the failed call, if one failed.

        For work whose effects were not kept: a pooled copy's items that another worker processes again and commits
        (and so reports), which these observers must not report too.
        """
        if self.activity is None:
            return
        self._gather(self.activity)
        activity = self.activity.take()
        self.activity.busy, self.activity.blocked, self.activity.idle = activity.busy, activity.blocked, activity.idle
        self.activity.failed = activity.failed

    def observe(self, final: bool = False) -> None:
        """Hand the activity since the last call to the observers, and their reports to the transport."""
        if self.activity is None:
            return
        if final:
            self.reported_final = True
            if self._sampler is not None:
                self._sampler.forget(self.pe, self.activity)
        self._gather(self.activity)
        activity = self.activity.take()
        reports = []
        for observer in self.observers:
            if activity or final:
                observer.observe(activity)
            report = observer.report(final)
            if report is not None:
                reports.append(report)
        if reports:
            self.transport.report(self.info, final, reports)

    def _gather(self, activity: Activity) -> None:
        """Add to ``activity`` what the tallies and the sampler counted since the last batch."""
        if self._sampler is not None:
            self._sampler.drain(activity)
        reads = activity.reads
        for port, tally in [("", self._fed), *self._received]:
            items = self._since(tally, tally.items)
            if items:
                reads[port] = reads.get(port, 0) + items
        sent, items_to = activity.sent, {}
        for key, tally in self._sent.items():
            items = items_to[key] = self._since(tally, tally.items)
            size = self._since((tally, "bytes"), tally.bytes)
            if items or size:
                old = sent.get(key, (0, 0))
                sent[key] = (old[0] + items, old[1] + size)
        writes = activity.writes
        for port, (keys, broadcast) in self._writes_from.items():
            items = items_to[keys[0]] if broadcast else sum(items_to[key] for key in keys)
            writes[port] = writes.get(port, 0) + items
        for port, tally in self._collected.items():
            writes[port] = writes.get(port, 0) + self._since(("collected", port), tally.items)
        for port in [port for port, count in writes.items() if not count]:
            del writes[port]
        for (output, target, input_port), (window, remembered, count) in self._keys.items():
            for value, times in window.take().items():
                index = remembered.get(value)
                where = (output, target, stable_digest(value) % count if index is None else index, input_port)
                landed = activity.keys.setdefault(where, {})
                landed[value] = landed.get(value, 0) + times

    def _since(self, counter: Any, now: int) -> int:
        """How much ``counter`` grew since the last look at it."""
        before = self._seen.get(counter, 0)
        self._seen[counter] = now
        return now - before

    def _call(self, stage: str, method: Callable[[], None]) -> None:
        try:
            method()
        except D4pyError:
            raise
        except Exception as error:
            raise self._failure(stage, None, error, has_item=False) from error

    def _failure(self, stage: str, item: Any, error: BaseException, has_item: bool = True) -> PEFailure:
        # Skip d4py's own frames so the user sees their code first, observed or not.
        tb = error.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename in _OWN_FILES:
            tb = tb.tb_next
        text = "".join(traceback.format_exception(type(error), error, tb))
        if self.lineage is not None and self.activity is not None:
            self.activity.failed = (self.lineage.parents, item)
        return PEFailure(self.pe_id, self.index, stage, item, has_item=has_item, traceback_text=text)

    def _emitter(self, port: str) -> Send:
        edges = self.plan.outgoing.get((self.pe_id, port), [])
        emit = self._stamped(port, edges[0]) if self.lineage is not None and len(edges) == 1 else None
        if emit is None:
            emit = self._fan_out(port, [self._router(edge) for edge in edges])
            if self.lineage is not None:
                emit = self._identifying(port, emit, self.lineage)
        if edges and self.activity is not None:
            first = edges[0]
            keys = [key for key in self._sent if key[0] == port and key[1] == first.target and key[3] == first.input]
            self._writes_from[port] = (keys, first.grouping.kind == "all" and not first.local)
        return self._output_check(port, emit)

    def _fan_out(self, port: str, sends: list[Send]) -> Send:
        """What writing to ``port`` calls: its one send, each of its sends, or (unconnected) the collector."""
        if len(sends) == 1:
            return sends[0]
        if sends:

            def emit(item: Any) -> None:
                for send in sends:
                    send(item)

            return emit
        collect = self.transport.collect(self.pe_id, port)
        if self.activity is not None:
            collect = self._tallied(collect, self._collected.setdefault(port, Tally()))
        return collect

    def _stamped(self, port: str, edge: Edge) -> Send | None:
        """In a traced run, writing to ``port`` when its one ``edge`` goes to one instance: each item is given its
        id and handed with it to the transport's traced send, in one call (else None)."""
        target = self._single_target(edge)
        if target is None:
            return None
        assert self.lineage is not None
        traced = self.transport.deliver_traced(edge, target)
        tally = tally_of(traced)
        if self.activity is not None:
            if tally is None:  # a transport that counts nothing itself: counted here, id read from the lineage
                tally = Tally()
                send = self._tallied(self._with_id(traced, self.lineage), tally)
                self._sent[(edge.output, edge.target, target, edge.input)] = tally
                return self._identifying(port, send, self.lineage)
            self._sent[(edge.output, edge.target, target, edge.input)] = tally
        return self.lineage.stamping(port, traced)

    def _single_target(self, edge: Edge) -> int | None:
        """The one instance every item over ``edge`` goes to, if there is one."""
        if edge.local:
            return self.index
        if self.plan.nodes[edge.target].instances == 1 or edge.grouping.kind == "global":
            return 0
        return None

    @staticmethod
    def _identifying(port: str, emit: Send, lineage: Lineage) -> Send:
        """``emit``, giving each item its lineage id first (the traced sends read it from ``lineage.out``)."""
        next_id = lineage.next_id

        def identified(item: Any) -> None:
            next_id(port, item)
            emit(item)

        return identified

    @staticmethod
    def _tallied(send: Send, tally: Tally) -> Send:
        """``send``, counting in ``tally`` (for transports whose sends keep no tally of their own)."""

        def counted(item: Any) -> None:
            tally.items += 1
            send(item)

        return counted

    def _deliver(self, edge: Edge, target: int) -> Send:
        """The transport's send over ``edge`` to instance ``target``; observed, with the tally of what went there."""
        counted: Callable[..., None]
        if self.lineage is None:
            send = counted = self.transport.deliver(edge, target)
        else:
            traced = counted = self.transport.deliver_traced(edge, target)
            send = self._with_id(traced, self.lineage)
        if self.activity is not None:
            tally = tally_of(counted)
            if tally is None:
                tally = Tally()
                send = self._tallied(send, tally)
            self._sent[(edge.output, edge.target, target, edge.input)] = tally
        return send

    @staticmethod
    def _with_id(send: TracedSend, lineage: Lineage) -> Send:
        def traced(item: Any) -> None:
            send(item, lineage.out)

        return traced

    def _router(self, edge: Edge) -> Send:
        """Return the function that sends an item over ``edge`` to the right instance(s)."""
        single = self._single_target(edge)
        if single is not None:
            return self._deliver(edge, single)
        count = self.plan.nodes[edge.target].instances
        targets = [self._deliver(edge, k) for k in range(count)]
        kind = edge.grouping.kind
        if kind == "all":

            def broadcast(item: Any) -> None:
                for send in targets:
                    send(item)

            return broadcast
        if kind == "group_by":
            key, fail = edge.grouping.key, self._failure
            # Keys repeat: remember each str/bytes/int key's instance. Only these types, whose
            # equality matches the digest's encoding exactly, so no two keys can share an entry wrongly.
            remembered: dict[Any, int] = {}
            # Observed, the same keys are counted in windows of items (sampled), for the skew they show.
            window = observe.CLOSED
            if self.activity is not None:
                window = KeyWindow()
                self._keys[(edge.output, edge.target, edge.input)] = (window, remembered, count)
                if self._sampler is not None:
                    self._sampler.sample_keys(window)

            def by_key(item: Any) -> None:
                try:
                    value = key(item)
                    if type(value) in _MEMO_TYPES:
                        index = remembered.get(value)
                        if index is None:
                            index = stable_digest(value) % count
                            if len(remembered) < _MEMO_SIZE:
                                remembered[value] = index
                        add = window.add
                        if add is not None:  # the window is open: keep the key, close it after its last
                            add(value)
                            window.left -= 1
                            if window.left <= 0:
                                window.add = None
                    else:
                        index = stable_digest(value) % count
                except Exception as error:
                    raise fail(f"routing output {edge.output!r} by {edge.grouping.describe()}", item, error) from error
                targets[index](item)

            return by_key
        # Round robin, starting at this instance's index so that senders spread out.
        turn = itertools.cycle(targets[self.index % count :] + targets[: self.index % count])
        return lambda item: next(turn)(item)

    def _undeclared(self, port: str) -> Send:
        """Where items a PE writes to an output it never declared go (dispel4py 1.x PEs): collected, counted for
        observers and, in a traced run, given ids like any other."""
        emit = self.transport.collect(self.pe_id, port)
        if self.activity is not None:
            emit = self._tallied(emit, self._collected.setdefault(port, Tally()))
        if self.lineage is not None:
            emit = self._identifying(port, emit, self.lineage)
        return emit

    def _output_check(self, port: str, emit: Send) -> Send:
        declared = self.pe.outputconnections[port].get(TYPE)
        if not self.plan.check_types or not is_checkable(declared):
            return emit

        def checked(item: Any) -> None:
            if not check_item(item, declared):
                raise self._type_error("output", port, declared, item)
            emit(item)

        return checked

    def _input_check(self, port: str) -> Send | None:
        declared = self.pe.inputconnections[port].get(TYPE)
        if not self.plan.check_types or not is_checkable(declared):
            return None

        def check(item: Any) -> None:
            if not check_item(item, declared):
                raise self._type_error("input", port, declared, item)

        return check

    def _type_error(self, kind: str, port: str, declared: Any, item: Any) -> TypeContractError:
        return TypeContractError(
            f"PE '{self.pe_id}' (instance {self.index}) {kind} {port!r} declares {type_name(declared)} "
            f"but got {type(item).__name__}: {describe_item(item)}"
        )
