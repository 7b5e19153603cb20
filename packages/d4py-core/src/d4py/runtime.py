"""The shared runtime: the loop that drives one PE instance, on every backend.

An :class:`Instance` owns the lifecycle (preprocess, process per item,
postprocess once every upstream instance has ended), routes what the PE
writes according to the plan, and counts end-of-stream per edge and upstream
instance. A backend supplies a :class:`Transport` that moves items and
end-of-stream marks between instances; it never decides where they go.
Instances with observers (:mod:`d4py.observe`) count and time what they do;
the others take a direct path that does neither.
"""

from __future__ import annotations

import copy
import itertools
import traceback
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any, Protocol

from d4py import observe
from d4py._exceptions import D4pyError, GraphError, PEFailure, TypeContractError, describe_item
from d4py.contracts import check_item, is_checkable, type_name
from d4py.groupings import stable_digest
from d4py.observe import Activity, Clock, Observer
from d4py.pe import TYPE, ConsumerPE, GenericPE, IterativePE
from d4py.plan import Edge, Plan

__all__ = ["Instance", "InstanceInfo", "ProcessFunction", "Transport", "instantiate"]

Send = Callable[[Any], None]
_MEMO_TYPES = (str, bytes, int)
_MEMO_SIZE = 1 << 16
# Frames a PE's traceback starts with that are d4py's, not the user's: this loop, and the Clock timing observed calls.
_OWN_FILES = frozenset({__file__, observe.__file__})
ProcessFunction = Callable[[dict[str, Any]], Any]
Wrapper = Callable[[ProcessFunction], ProcessFunction]


class Transport(Protocol):
    """How a backend moves items and end-of-stream marks between instances."""

    def deliver(self, edge: Edge, target: int) -> Send:
        """Return a function that sends one item over ``edge`` to instance ``target``."""

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
        clock: Clock | None = None,
    ) -> None:
        self.plan, self.pe_id, self.index, self.pe = plan, pe_id, index, pe
        self.info = InstanceInfo(pe_id, index, plan.nodes[pe_id].instances)
        self.transport = transport
        # Which copy this is, for PEs that split work among their instances themselves.
        pe._run_as(index, plan.nodes[pe_id].instances, lambda port: transport.collect(pe_id, port))
        self.count = 0
        self.finished = False
        self._awaiting = plan.expected_ends(pe_id, index)
        self._process: ProcessFunction = pe.process
        for wrap in wrappers or []:
            self._process = wrap(self._process)
        self.observers = observers or []
        self.activity = Activity() if self.observers else None
        self._clock = clock or Clock()
        # The direct path skips the inputs dict and the returned mapping; unobserved, it is the fast path.
        self._direct = _has_direct_path(pe) and not wrappers and not plan.check_types
        self._fast = self._direct and not self.observers
        self._reads_observed = 0  # reads handed to observers so far

    def connect(self) -> None:
        """Install the PE's emitters; call once every instance can be delivered to."""
        self.pe._emitters = {port: self._emitter(port) for port in self.pe.outputconnections}

    def start(self) -> None:
        """Run ``preprocess``."""
        self._call("preprocess", self.pe.preprocess)

    def receiver(self, port: str) -> Send:
        """Return the function that hands one item arriving on ``port`` to the PE."""
        if self._direct:
            return self._direct_receiver()
        process, write, fail = self._process, self.pe.write, self._failure
        check = self._input_check(port)
        activity, clock = self.activity, self._clock
        if activity is not None:
            process = _timed(process, activity, clock, port)

        def receive(item: Any) -> None:
            self.count += 1
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

        return receive

    def _direct_receiver(self) -> Send:
        # Skip the inputs dict and the returned mapping: the hot path of most pipelines. Observed, the
        # call is timed; its reads are counted from ``count`` when the observers get their batch.
        function, port, fail = self.pe._process, self.pe.INPUT_NAME, self._failure  # type: ignore[attr-defined]
        emit = self.pe._emitters[self.pe.OUTPUT_NAME] if isinstance(self.pe, IterativePE) else None
        if self.activity is not None:
            function = partial(self._clock.timed, self.activity, function)

        def receive(item: Any) -> None:
            self.count += 1
            try:
                result = function(item)
            except D4pyError:
                raise
            except Exception as error:
                raise fail("process", {port: item}, error) from error
            if result is not None and emit is not None:
                emit(result)

        return receive

    def feed(self, inputs: Mapping[str, Any]) -> None:
        """Call the PE with one run input (roots only); observers count it as read on port ``''``."""
        self.count += 1
        process = self._process
        if self.activity is not None:
            process = _timed(process, self.activity, self._clock, "")
        try:
            result = process(dict(inputs))
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
        self._call("postprocess", self.pe.postprocess)
        for edge, target in self.plan.sent_ends(self.pe_id, self.index):
            self.transport.end(edge, target, self.index)
        self.observe(final=True)

    def observe(self, final: bool = False) -> None:
        """Hand the activity since the last call to the observers, and their reports to the transport."""
        if self.activity is None:
            return
        if self._direct:  # direct reads are not counted one by one: they are the reads not yet accounted for
            direct = self.count - self._reads_observed - sum(self.activity.reads.values())
            if direct:
                port = self.pe.INPUT_NAME  # type: ignore[attr-defined]
                self.activity.reads[port] = self.activity.reads.get(port, 0) + direct
        self._reads_observed = self.count
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

    def _call(self, stage: str, method: Callable[[], None]) -> None:
        try:
            if self.activity is not None:
                self._clock.timed(self.activity, method)
            else:
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
        return PEFailure(self.pe_id, self.index, stage, item, has_item=has_item, traceback_text=text)

    def _emitter(self, port: str) -> Send:
        edges = self.plan.outgoing.get((self.pe_id, port), [])
        sends = [self._router(edge) for edge in edges]
        if not sends:
            emit = self.transport.collect(self.pe_id, port)
        elif len(sends) == 1:
            emit = sends[0]
        else:

            def emit(item: Any) -> None:
                for send in sends:
                    send(item)

        if self.activity is not None:
            emit = self._counted(port, emit, self.activity)
        return self._output_check(port, emit)

    def _counted(self, port: str, emit: Send, activity: Activity) -> Send:
        writes, written = activity.writes, activity.written
        keep = any(observer.wants_items for observer in self.observers)

        def counted(item: Any) -> None:
            writes[port] = writes.get(port, 0) + 1
            if keep:
                written.append((port, item, self.count))
            emit(item)

        return counted

    def _router(self, edge: Edge) -> Send:
        """Return the function that sends an item over ``edge`` to the right instance(s)."""
        count = self.plan.nodes[edge.target].instances
        if edge.local:
            return self.transport.deliver(edge, self.index)
        targets = [self.transport.deliver(edge, k) for k in range(count)]
        kind = edge.grouping.kind
        if count == 1:
            return targets[0]
        if kind == "global":
            return targets[0]
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

            def by_key(item: Any) -> None:
                try:
                    value = key(item)
                    if type(value) in _MEMO_TYPES:
                        index = remembered.get(value)
                        if index is None:
                            index = stable_digest(value) % count
                            if len(remembered) < _MEMO_SIZE:
                                remembered[value] = index
                    else:
                        index = stable_digest(value) % count
                except Exception as error:
                    raise fail(f"routing output {edge.output!r} by {edge.grouping.describe()}", item, error) from error
                targets[index](item)

            return by_key
        # Round robin, starting at this instance's index so that senders spread out.
        turn = itertools.cycle(targets[self.index % count :] + targets[: self.index % count])
        return lambda item: next(turn)(item)

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


def _timed(process: ProcessFunction, activity: Activity, clock: Clock, port: str) -> ProcessFunction:
    """``process``, counting a read on ``port`` and charging its own time to ``activity``."""
    reads = activity.reads

    def timed(inputs: dict[str, Any]) -> Any:
        reads[port] = reads.get(port, 0) + 1
        return clock.timed(activity, process, inputs)

    return timed
