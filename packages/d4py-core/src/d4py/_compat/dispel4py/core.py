"""dispel4py.core, served by d4py.

PEs written against dispel4py's API are d4py PEs with what 1.x engines did
to every PE at run time (:class:`Dispel4pyPE`); d4py's own API keeps d4py's
stricter behaviour.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

from d4py import pe as d4py_pe
from d4py.pe import GROUPING, NAME, TYPE, Emitter, logger

DESCRIPTION = "descr"
META = "meta"
WRITER = "writer"

__all__ = ["DESCRIPTION", "GROUPING", "META", "NAME", "TYPE", "WRITER", "Dispel4pyPE", "GenericPE"]

_warned: set[tuple[str, str]] = set()  # (PE id, port): an undeclared output is reported once per process


class Dispel4pyPE(d4py_pe.GenericPE):
    """What dispel4py 1.x engines did to every PE, for PEs written against its API.

    An item written to an output the PE never declared is collected under
    that port (1.x returned it), with one warning naming the PE and port,
    instead of failing the run. A PE's own ``log`` is replaced by the
    engine's, as 1.x engines did.
    """

    def _run_as(self, index: int, count: int, collect: Callable[[str], Emitter]) -> None:
        super()._run_as(index, count, collect)
        self._collect_undeclared = collect
        self.log = types.MethodType(d4py_pe.GenericPE.log, self)  # type: ignore[method-assign]

    def write(self, name: str, data: Any) -> None:
        emit = self._emitters.get(name)
        if emit is None:
            if name in self.outputconnections or not hasattr(self, "_collect_undeclared"):
                super().write(name, data)  # declared but not running: d4py's message says so
                return
            if (self.id, name) not in _warned:
                _warned.add((self.id, name))
                logger.warning(
                    "PE '%s' wrote to output %r, which it never declared: its items are collected under that port, "
                    "as dispel4py 1.x did (declare it with self._add_output(%r))",
                    self.id,
                    name,
                    name,
                )
            emit = self._emitters[name] = self._collect_undeclared(name)
        emit(data)


class GenericPE(Dispel4pyPE):
    """dispel4py.core.GenericPE."""
