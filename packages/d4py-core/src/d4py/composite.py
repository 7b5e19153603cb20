"""Composites: a sub-graph used as one node, and chains of functions."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from d4py.graph import Node, WorkflowGraph
from d4py.pe import IterativePE, SimpleFunctionPE

__all__ = ["CompositePE", "create_iterative_chain"]


class CompositePE(WorkflowGraph):
    """A sub-graph with named inputs and outputs, usable wherever a PE is.

    Build it by passing ``create_graph(composite, **params)`` or by subclassing
    and calling ``connect``, ``_map_input`` and ``_map_output`` in ``__init__``.
    """

    def __init__(
        self,
        create_graph: Callable[..., Any] | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__()
        if create_graph is not None:
            create_graph(self, **dict(params or {}))

    def _map_input(self, input_name: str, internal_pe: Node, internal_input: str) -> None:
        """Expose ``internal_pe``'s input as this composite's input ``input_name``."""
        self.add(internal_pe)
        self.inputmappings[input_name] = (internal_pe, internal_input)

    def _map_output(self, output_name: str, internal_pe: Node, internal_output: str) -> None:
        """Expose ``internal_pe``'s output as this composite's output ``output_name``."""
        self.add(internal_pe)
        self.outputmappings[output_name] = (internal_pe, internal_output)


FunctionSpec = Callable[..., Any] | tuple[Callable[..., Any], Mapping[str, Any]]


def create_iterative_chain(
    functions: Iterable[FunctionSpec],
    FunctionPE_class: type[SimpleFunctionPE] = SimpleFunctionPE,  # noqa: N803 - dispel4py name
    name_prefix: str = "PE_",
    name_suffix: str = "",
) -> CompositePE:
    """Chain functions (or ``(function, params)`` pairs) into a composite.

    The composite's ``input`` feeds the first function, its ``output`` is the
    last function's result.
    """
    chain = CompositePE()
    previous: SimpleFunctionPE | None = None
    for spec in functions:
        fn, params = spec if isinstance(spec, tuple) else (spec, {})
        pe = FunctionPE_class()
        pe.compute_fn = fn
        pe.params = dict(params)
        pe.name = f"{name_prefix}{fn.__name__}{name_suffix}"
        if previous is None:
            chain._map_input("input", pe, IterativePE.INPUT_NAME)
        else:
            chain.connect(previous, IterativePE.OUTPUT_NAME, pe, IterativePE.INPUT_NAME)
        previous = pe
    if previous is None:
        raise ValueError("create_iterative_chain needs at least one function")
    chain._map_output("output", previous, IterativePE.OUTPUT_NAME)
    return chain
