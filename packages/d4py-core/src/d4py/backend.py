"""What a backend is: a named class with options that runs a plan and returns a RunResult."""

from __future__ import annotations

import dataclasses
import types
import typing
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from d4py._exceptions import OptionError
from d4py.plan import Plan

if TYPE_CHECKING:
    from d4py.runhooks import RunHooks

__all__ = ["Backend", "BatchOptions", "NoOptions", "RunResult", "parse_options"]


@dataclass(frozen=True)
class NoOptions:
    """A backend that takes no ``-o`` options."""


@dataclass(frozen=True)
class BatchOptions:
    """How batches are cut; a backend's Options class inherits these ``-o`` options."""

    batch_items: int = 1024  # send a batch once it holds this many messages ...
    batch_bytes: int = 1 << 20  # ... or about this many bytes of array/bytes/str payload ...
    flush_ms: float = 5.0  # ... or once its first message is this old
    # Bytes of arrays written more than once that a process keeps per destination, so that they are not
    # sent again (the 200 spectra of the xcorr workflow's station pairs are 105 MB).
    keep_bytes: int = 256 << 20


@dataclass
class RunResult:
    """What a run returns on every backend.

    ``outputs`` maps PE id to output port to the items written to that port
    while it was unconnected; ``counts`` maps PE id to the number of items
    (and root inputs) its instances processed.
    """

    outputs: dict[str, dict[str, list[Any]]]
    counts: dict[str, int]
    wall_time: float
    backend: str

    def output(self, pe: str, port: str | None = None) -> list[Any]:
        """Items collected from one PE (by id or name), on one port or on all of them."""
        matches = [pe_id for pe_id in self.outputs if pe_id == pe] or [
            pe_id for pe_id in self.outputs if pe_id.rstrip("0123456789") == pe
        ]
        items: list[Any] = []
        for pe_id in matches:
            for name, values in self.outputs[pe_id].items():
                if port is None or name == port:
                    items.extend(values)
        return items

    def all_items(self) -> list[Any]:
        """Every collected item, from every PE and port."""
        return [item for ports in self.outputs.values() for values in ports.values() for item in values]


class Backend(ABC):
    """Base class of every backend; plugins return subclasses from ``d4py_backends``.

    ``name`` is also the entry-point name and the value of ``--backend``.
    ``Options`` is a frozen dataclass of the ``-o key=value`` options.
    ``live_counts`` says whether the driving process learns item counts while
    the run goes on (instances run in it, or the backend fires
    ``d4py_run_progress``); progress displays show only the time otherwise.

    Capabilities: a backend that cannot honour some graphs declares it, and
    core refuses such a graph with a clear message before anything starts
    (``BackendContract`` reads the same declarations).
    ``runs_partition_cycles`` is false for backends with bounded transport
    between processes, where explicit partitions that feed each other could
    deadlock. ``fuses_chains`` is false for backends that give every PE a
    component of its own (Storm: one spout or bolt per PE, placed by the
    platform): their plans keep one-to-one chains apart, and only explicit
    ``graph.partitions`` share a process. ``traces_items`` says whether
    items carry their lineage ids between processes (``Transport.deliver_traced``),
    so that a traced run (provenance) can run.
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    Options: ClassVar[type] = NoOptions
    live_counts: ClassVar[bool] = True
    runs_partition_cycles: ClassVar[bool] = True
    fuses_chains: ClassVar[bool] = True
    traces_items: ClassVar[bool] = True

    def __init__(self, options: Any = None) -> None:
        self.options = options if options is not None else self.Options()

    @classmethod
    def unavailable_reason(cls, options: Any = None) -> str | None:
        """Say why this backend cannot run here and how to fix it, or None when it can.

        ``options`` are the run's (an instance of ``Options``), or None when
        listing backends: an option may supply what is missing (a path to a
        program, say).
        """
        return None

    def default_processes(self) -> int | None:
        """The process budget when the user gives none, or None to run each PE's ``numprocesses``.

        Only for budgets the user chose outside d4py, such as the size of the
        MPI job they started; a backend never picks one from the machine.
        """
        return None

    def check(self, plan: Plan) -> None:
        """Raise a UsageError naming the PE and the reason if this backend cannot run ``plan`` correctly.

        Called after planning and after core has checked the declared
        capabilities, before anything starts: for refusals that no
        capability describes (a malformed option that depends on the plan).
        The default accepts every plan.
        """
        return None

    @abstractmethod
    def run(self, plan: Plan, hooks: RunHooks) -> RunResult:
        """Run every instance of ``plan`` to the end and return what it produced.

        ``hooks`` is the run's plugins: ask it for each instance's wrappers
        and observers, pass it progress, and send ``hooks.for_workers()`` (or
        :func:`d4py.hosting.worker_settings`) to the processes you start.
        """


def option_fields(options_class: type) -> list[dataclasses.Field[Any]]:
    return list(dataclasses.fields(options_class))


def parse_options(backend: type[Backend], pairs: list[str]) -> Any:
    """Build ``backend.Options`` from ``key=value`` strings, converting to each field's type."""
    fields = {f.name: f for f in option_fields(backend.Options)}
    hints = typing.get_type_hints(backend.Options)
    values: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        key = key.strip().replace("-", "_")
        if not sep:
            raise OptionError(f"-o {pair!r}: write options as key=value")
        if key not in fields:
            valid = ", ".join(sorted(fields)) or "none"
            raise OptionError(f"-o {key}: backend {backend.name!r} has no such option; its options are: {valid}")
        values[key] = _convert(raw, hints[key], f"-o {key}")
    try:
        return backend.Options(**values)
    except ValueError as error:  # an Options class that checks its values says what is wrong
        raise OptionError(f"backend {backend.name!r}: {error}") from None


def _convert(raw: str, hint: Any, where: str) -> Any:
    origin = typing.get_origin(hint)
    if origin is Literal:
        choices = typing.get_args(hint)
        if raw not in choices:
            raise OptionError(f"{where}={raw}: choose one of {', '.join(map(str, choices))}")
        return raw
    if origin in (typing.Union, types.UnionType):
        members = [m for m in typing.get_args(hint) if m is not type(None)]
        if raw.lower() in ("", "none"):
            return None
        return _convert(raw, members[0], where)
    if hint is bool:
        lowered = raw.lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise OptionError(f"{where}={raw}: expected true or false")
    if hint in (int, float):
        try:
            number = hint(raw)
        except ValueError:
            raise OptionError(f"{where}={raw}: expected a{'n integer' if hint is int else ' number'}") from None
        if number < 0:  # counts, sizes and times, on every backend
            raise OptionError(f"{where}={raw}: expected 0 or more")
        return number
    return raw


def describe_options(backend: type[Backend]) -> list[tuple[str, str, str]]:
    """(name, kind of value, default) of each option, as a user types them, for ``d4py backends``."""
    hints = typing.get_type_hints(backend.Options)
    rows = []
    for f in option_fields(backend.Options):
        default = "required" if f.default is dataclasses.MISSING else _typed(f.default)
        rows.append((f.name, _kind(hints[f.name]), default))
    return rows


def _kind(hint: Any) -> str:
    origin = typing.get_origin(hint)
    if origin is Literal:
        return "|".join(map(str, typing.get_args(hint)))
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_kind(member) for member in typing.get_args(hint) if member is not type(None))
    return hint.__name__ if isinstance(hint, type) else str(hint)


def _typed(value: Any) -> str:
    return "none" if value is None else str(value).lower() if isinstance(value, bool) else str(value)
