"""Processing elements (PEs): the user's per-item code, in dispel4py's vocabulary.

A PE declares named input and output ports in ``__init__`` and handles one item
at a time. Port declarations live in ``inputconnections`` / ``outputconnections``
as dispel4py 1.x kept them, so existing workflows that edit them keep working.
"""

from __future__ import annotations

import inspect
import logging
import sys
from collections.abc import Callable, Hashable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from d4py._exceptions import PortError

if TYPE_CHECKING:
    from d4py.lineage import Lineage

__all__ = [
    "BasePE",
    "keeps_state",
    "pe_log_level",
    "show_pe_logs",
    "ConsumerPE",
    "GenericPE",
    "IterativePE",
    "ProducerPE",
    "SimpleFunctionPE",
]

NAME = "name"
TYPE = "type"
GROUPING = "grouping"

logger = logging.getLogger("d4py.pe")

Emitter = Callable[[Any], None]


def pe_log_level() -> int | None:
    """The level at which PE log messages are shown in this process, for workers to match."""
    return logger.getEffectiveLevel() if logger.handlers else None


class _ToStderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time, so a backend that redirects it captures PE logs too."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


def show_pe_logs(level: int) -> None:
    """Show PE log messages on stderr at ``level``, as the driver does."""
    if not logger.handlers:
        handler = _ToStderr()
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
    logger.setLevel(level)


class GenericPE:
    """Base class of every PE: override ``process`` or ``_process``."""

    #: Set True on a PE that carries state from one item to the next, so that
    #: dynamic backends keep each instance in place instead of pooling its work.
    stateful: ClassVar[bool] = False
    _lineage: Lineage | None = None  # set by the runtime on each running copy, in a traced run

    def __init__(self, numprocesses: int = 1) -> None:
        self.inputconnections: dict[str, dict[str, Any]] = {}
        self.outputconnections: dict[str, dict[str, Any]] = {}
        self.numprocesses = numprocesses
        self.name: str = type(self).__name__
        self.id: str = self.name
        # Set by the runtime for each running copy: this copy's index among instance_count.
        self.instance_index = 0
        self.instance_count = 1
        # Installed by the runtime for the duration of a run; see d4py.runtime.
        self._emitters: dict[str, Emitter] = {}

    def _add_input(self, name: str, grouping: Any = None, tuple_type: Any = None) -> None:
        """Declare an input port, optionally with a grouping and an item type."""
        port: dict[str, Any] = {NAME: name}
        if grouping is not None:
            port[GROUPING] = grouping
        if tuple_type is not None:
            port[TYPE] = tuple_type
        self.inputconnections[name] = port

    def _add_output(self, name: str, tuple_type: Any = None) -> None:
        """Declare an output port, optionally with an item type."""
        port: dict[str, Any] = {NAME: name}
        if tuple_type is not None:
            port[TYPE] = tuple_type
        self.outputconnections[name] = port

    def preprocess(self) -> None:
        """Run once per instance before the first item."""
        self._preprocess()

    def _preprocess(self) -> None:
        """Override to set up state before the first item."""

    def process(self, inputs: dict[str, Any]) -> Mapping[str, Any] | None:
        """Handle one item; ``inputs`` maps the port it arrived on to the item.

        A returned mapping is written out, port by port, as if by ``write``.
        """
        result: Mapping[str, Any] | None = self._process(inputs)
        return result

    def _process(self, inputs: Any) -> Any:
        """Override to handle one item."""
        return None

    def postprocess(self) -> None:
        """Run once per instance after every input has ended; may still ``write``."""
        self._postprocess()

    def _postprocess(self) -> None:
        """Override to emit aggregates or release resources."""

    def write(self, name: str, data: Any) -> None:
        """Send ``data`` to every connection of output port ``name``."""
        try:
            emit = self._emitters[name]
        except KeyError:
            raise self._write_error(name) from None
        emit(data)

    def note_input(self, key: Hashable) -> None:
        """Lineage: the item being handled counts toward ``key``; see :meth:`write_derived`.

        ``key`` must be hashable (a str, an int, a tuple of them), traced or not. A window's
        items are best noted under a key of their own (its number), since what is noted stays noted.
        """
        hash(key)  # a key that would fail a traced run fails every run
        if self._lineage is not None:
            self._lineage.note(key)

    def write_derived(self, name: str, data: Any, key: Hashable) -> None:
        """Write ``data`` as derived from the inputs noted under ``key``, not from the item being handled.

        For aggregates and windows: a word counter notes each input under its
        word and writes each count, in ``postprocess``, derived from the
        inputs of that word only (by default, what ``postprocess`` writes
        derives from everything the instance read).
        """
        lineage = self._lineage
        if lineage is None:
            self.write(name, data)
            return
        named = lineage.named
        lineage.named = lineage.derived(key)
        try:
            self.write(name, data)
        finally:
            lineage.named = named

    def item_metadata(self, port: str, item: Any) -> Mapping[str, Any] | None:
        """Override to describe an item written to ``port`` for provenance (stored and searchable), or None.

        Called only in a traced run, for the items its provenance keeps.
        """
        return None

    def _write_error(self, name: str) -> Exception:
        if name not in self.outputconnections:
            valid = ", ".join(repr(p) for p in self.outputconnections) or "none"
            return PortError(f"PE '{self.id}' wrote to unknown output {name!r}; its outputs are: {valid}")
        return RuntimeError(f"PE '{self.id}' wrote to {name!r} outside a run")

    def _run_as(self, index: int, count: int, collect: Callable[[str], Emitter]) -> None:
        """Called by the runtime on each running copy: which copy of ``count`` it is.

        ``collect(port)`` returns where items written to an unconnected output go.
        """
        self.instance_index, self.instance_count = index, count

    def log(self, msg: object) -> None:
        """Log a message tagged with this PE; usable anywhere, including ``__init__``."""
        logger.info("%s: %s", getattr(self, "id", type(self).__name__), msg)

    def getContainedObject(self) -> GenericPE:  # noqa: N802 - dispel4py name
        """This PE, as a node of a graph (dispel4py 1.x's nodes wrapped their PE)."""
        return self

    # dispel4py 1.x type propagation hooks, kept so that overrides still resolve.
    def setInputTypes(self, types: dict[str, Any]) -> None:  # noqa: N802 - dispel4py name
        """Receive the declared types of the connected inputs (dispel4py 1.x)."""

    def getOutputTypes(self) -> dict[str, Any]:  # noqa: N802 - dispel4py name
        """Return the declared output types (dispel4py 1.x)."""
        return {name: port.get(TYPE) for name, port in self.outputconnections.items()}

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_emitters"] = {}  # emitters belong to one run in one process
        state["_lineage"] = None
        return state

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id!r}>"


class BasePE(GenericPE):
    """A PE with ports given by name or by count (``input0``, ``output0``, ...)."""

    INPUT_NAME = "input"
    OUTPUT_NAME = "output"

    def __init__(
        self,
        inputs: list[str] | tuple[str, ...] = (),
        outputs: list[str] | tuple[str, ...] = (),
        num_inputs: int = 0,
        num_outputs: int = 0,
    ) -> None:
        super().__init__()
        for name in [f"{self.INPUT_NAME}{i}" for i in range(num_inputs)] + list(inputs):
            self._add_input(name)
        for name in [f"{self.OUTPUT_NAME}{i}" for i in range(num_outputs)] + list(outputs):
            self._add_output(name)


class IterativePE(GenericPE):
    """One input, one output: ``_process(data)`` returns the item to emit, or None."""

    INPUT_NAME = "input"
    OUTPUT_NAME = "output"

    def __init__(self) -> None:
        super().__init__()
        self._add_input(IterativePE.INPUT_NAME)
        self._add_output(IterativePE.OUTPUT_NAME)

    def process(self, inputs: dict[str, Any]) -> Mapping[str, Any] | None:
        result = self._process(inputs[self.INPUT_NAME])
        if result is not None:
            return {self.OUTPUT_NAME: result}
        return None


class ProducerPE(GenericPE):
    """No inputs, one output: ``_process`` returns an item or calls ``write``.

    ``_process`` may take the (empty) inputs or nothing at all; dispel4py 1.x
    examples use both forms and 1.x itself crashed on the second.
    """

    OUTPUT_NAME = "output"
    _process_takes_inputs: ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        params = inspect.signature(cls._process).parameters
        cls._process_takes_inputs = len(params) > 1 or any(
            p.kind is inspect.Parameter.VAR_POSITIONAL for p in params.values()
        )

    def __init__(self) -> None:
        super().__init__()
        self._add_output(ProducerPE.OUTPUT_NAME)

    def process(self, inputs: dict[str, Any]) -> Mapping[str, Any] | None:
        result = self._process(inputs) if self._process_takes_inputs else self._process()  # type: ignore[call-arg]
        if result is not None:
            return {self.OUTPUT_NAME: result}
        return None


class ConsumerPE(GenericPE):
    """One input, no outputs: ``_process(data)`` consumes each item."""

    INPUT_NAME = "input"

    def __init__(self) -> None:
        super().__init__()
        self._add_input(ConsumerPE.INPUT_NAME)

    def process(self, inputs: dict[str, Any]) -> Mapping[str, Any] | None:
        self._process(inputs[self.INPUT_NAME])
        return None


class SimpleFunctionPE(IterativePE):
    """An IterativePE that applies ``compute_fn(data, **params)`` to each item."""

    def __init__(self, compute_fn: Callable[..., Any] | None = None, params: Mapping[str, Any] | None = None) -> None:
        super().__init__()
        if compute_fn is not None:
            self.name = self.id = f"PE_{compute_fn.__name__}"
        self.compute_fn = compute_fn
        self.params: Mapping[str, Any] = dict(params or {})

    def _process(self, data: Any) -> Any:
        if self.compute_fn is None:
            raise TypeError(f"SimpleFunctionPE '{self.id}' has no compute_fn")
        return self.compute_fn(data, **self.params)


def keeps_state(pe: GenericPE) -> bool:
    """Whether ``pe`` says it carries state, or emits at the end (which needs state)."""
    cls = type(pe)
    return pe.stateful or cls.postprocess is not GenericPE.postprocess or cls._postprocess is not GenericPE._postprocess
