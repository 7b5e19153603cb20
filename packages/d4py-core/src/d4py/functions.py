"""PEs from annotated functions: the short way to write most PEs.

    @iterative
    def scale(x: float, factor: float = 2.0) -> float:
        return x * factor

    graph.connect(numbers(limit=5), "output", scale(factor=3), "input")

The decorator turns the function into a PE class; calling the class with
keyword arguments binds the function's extra parameters. Type annotations
become port types, checked by ``d4py check`` and every run. A generator
function emits every item it yields.
"""

from __future__ import annotations

import collections.abc
import inspect
import typing
from collections.abc import Callable
from typing import Any

from d4py.pe import GenericPE

__all__ = ["FunctionPE", "consumer", "iterative", "producer"]

_ITERATOR_ORIGINS = (collections.abc.Iterator, collections.abc.Iterable, collections.abc.Generator)


class FunctionPE(GenericPE):
    """A PE whose work is one plain function with bound keyword parameters."""

    _function: Callable[..., Any]
    _yields: bool
    _input_type: Any
    _output_type: Any
    _has_input: bool = True
    _has_output: bool = True

    def __init__(self, **params: Any) -> None:
        super().__init__()
        self.params = params
        inspect.signature(self._function).bind_partial(*([None] if self._has_input else []), **params)
        if self._has_input:
            self._add_input("input", tuple_type=self._input_type)
        if self._has_output:
            self._add_output("output", tuple_type=self._output_type)

    def process(self, inputs: dict[str, Any]) -> None:
        args = (inputs["input"],) if self._has_input else ()
        result = self._function(*args, **self.params)
        if not self._has_output or result is None:
            return
        if self._yields:
            for item in result:
                self.write("output", item)
        else:
            self.write("output", result)


def _make(fn: Callable[..., Any], has_input: bool, has_output: bool) -> type[FunctionPE]:
    hints = typing.get_type_hints(fn)
    params = list(inspect.signature(fn).parameters)
    yields = inspect.isgeneratorfunction(fn)
    output_type = hints.get("return")
    if yields or typing.get_origin(output_type) in _ITERATOR_ORIGINS:
        yields = True
        args = typing.get_args(output_type)
        output_type = args[0] if args else None
    namespace = {
        "_function": staticmethod(fn),
        "_yields": yields,
        "_input_type": hints.get(params[0]) if has_input and params else None,
        "_output_type": output_type,
        "_has_input": has_input,
        "_has_output": has_output,
        "__module__": fn.__module__,
        "__qualname__": fn.__qualname__,
        "__doc__": fn.__doc__,
    }
    cls = type(fn.__name__, (FunctionPE,), namespace)
    return cls


def iterative(fn: Callable[..., Any]) -> type[FunctionPE]:
    """Make a one-in, one-out PE class from ``fn(item, **params)``."""
    return _make(fn, has_input=True, has_output=True)


def producer(fn: Callable[..., Any]) -> type[FunctionPE]:
    """Make a root PE class from ``fn(**params)``; a generator emits each item it yields."""
    return _make(fn, has_input=False, has_output=True)


def consumer(fn: Callable[..., Any]) -> type[FunctionPE]:
    """Make a sink PE class from ``fn(item, **params)``."""
    return _make(fn, has_input=True, has_output=False)
