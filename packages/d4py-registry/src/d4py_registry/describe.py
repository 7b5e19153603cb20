"""Find the PEs, function PEs and workflows in a module and describe them as entries.

This imports the module, so it runs the user's code: only the client that
adds a file does it (the user chose to run that file), never the server.
Ports come from d4py itself, so they are exactly what a run would see: an
instance of the class made without arguments, else an instance in one of the
module's graphs, else the literal ``_add_input``/``_add_output`` calls in the
class's source (read with ``ast``, on top of the ports of its d4py base).
"""

from __future__ import annotations

import ast
import inspect
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from d4py import GenericPE, GraphError, SimpleFunctionPE, UsageError, WorkflowGraph
from d4py.contracts import type_name
from d4py.functions import FunctionPE
from d4py.groupings import parse_grouping
from d4py.loader import load_module
from d4py.pe import GROUPING, TYPE
from d4py_registry.entry import Entry, Port, sha256_of
from d4py_registry.errors import NothingToRegister
from d4py_registry.facts import declared_ports, module_facts

__all__ = ["Described", "describe"]

DEFAULT_VERSION = "0.1.0"


@dataclass(frozen=True)
class Described:
    """The entries found in one module, and the module's exact source."""

    entries: list[Entry]
    source: bytes


def describe(
    target: str,
    namespace: str | None = None,
    version: str | None = None,
    author: str | None = None,
    licence: str | None = None,
) -> Described:
    """Import ``target`` (a ``.py`` path or a dotted module) and describe what it defines."""
    module = load_module(target)
    if not getattr(module, "__file__", None):
        raise NothingToRegister(f"{target!r} has no source file to register")
    source = Path(str(module.__file__)).read_bytes()
    facts = module_facts(source)
    common: dict[str, Any] = {
        "namespace": namespace or _default_namespace(target),
        "version": version or facts.version or DEFAULT_VERSION,
        "module": module.__name__,
        "sha256": sha256_of(source),
        "imports": facts.imports,
        "author": author or facts.author,
        "licence": licence or facts.licence,
    }
    graphs = _graphs(module)
    in_graphs = [pe for graph in graphs.values() for pe in graph.flatten_connections()[0]]
    entries = [_pe_entry(name, cls, source, in_graphs, common) for name, cls in _pe_classes(module).items()]
    entries += [_function_entry(name, pe, common) for name, pe in _functions(module, in_graphs).items()]
    entries += [_workflow_entry(name, graph, module, common) for name, graph in graphs.items()]
    if not entries:
        raise NothingToRegister(
            f"{target!r} defines no PE class, function PE or workflow graph at module level; nothing to register"
        )
    return Described(entries, source)


def _default_namespace(target: str) -> str:
    if target.endswith(".py") or Path(target).is_file():
        stem = Path(target).stem
        if not stem.isidentifier():
            raise UsageError(f"{target!r}: its name is no Python identifier; give --namespace NS")
        return stem
    return target


def _pe_classes(module: ModuleType) -> dict[str, type[GenericPE]]:
    found: dict[str, type[GenericPE]] = {}
    for name, value in vars(module).items():
        defined_here = isinstance(value, type) and issubclass(value, GenericPE) and value.__module__ == module.__name__
        if defined_here and not name.startswith("_") and value not in found.values():
            found[name] = value
    return found


def _functions(module: ModuleType, in_graphs: list[GenericPE]) -> dict[str, SimpleFunctionPE]:
    """Plain module-level functions the graphs use through SimpleFunctionPE (and create_iterative_chain)."""
    found: dict[str, SimpleFunctionPE] = {}
    for pe in in_graphs:
        if isinstance(pe, SimpleFunctionPE) and pe.compute_fn is not None:
            name = getattr(pe.compute_fn, "__name__", "")
            if getattr(module, name, None) is pe.compute_fn:
                found.setdefault(name, pe)
    return found


def _graphs(module: ModuleType) -> dict[str, WorkflowGraph]:
    """Module-level graphs that are workflows (composites are parts of one, not workflows)."""
    found: dict[str, WorkflowGraph] = {}
    for name, value in vars(module).items():
        is_workflow = isinstance(value, WorkflowGraph) and not value.inputmappings and not value.outputmappings
        if is_workflow and not name.startswith("_") and value not in found.values():
            found[name] = value
    return found


def _pe_entry(
    name: str, cls: type[GenericPE], source: bytes, in_graphs: list[GenericPE], common: dict[str, Any]
) -> Entry:
    try:
        ports, ports_from = _ports(cls()), "instance"
    except Exception:  # an __init__ that needs arguments: find an instance, else read the source
        placed = next((pe for pe in in_graphs if type(pe) is cls), None)
        ports, ports_from = (_ports(placed), "graph") if placed else (_ports_from_source(cls, source), "source")
    doc = inspect.cleandoc(cls.__dict__.get("__doc__") or "")
    kind = "function" if issubclass(cls, FunctionPE) else "pe"  # @iterative and its kin make PE classes
    return Entry(name=name, kind=kind, doc=doc, ports=ports, ports_from=ports_from, **common)


def _function_entry(name: str, pe: SimpleFunctionPE, common: dict[str, Any]) -> Entry:
    doc = inspect.cleandoc(getattr(pe.compute_fn, "__doc__", None) or "")
    return Entry(name=name, kind="function", doc=doc, ports=_ports(pe), ports_from="graph", **common)


def _workflow_entry(name: str, graph: WorkflowGraph, module: ModuleType, common: dict[str, Any]) -> Entry:
    """A workflow's ports are its PEs' unconnected ones, named ``PEid.port``: what run input and results use."""
    pes, connections = graph.flatten_connections()
    fed = {(id(c.target), c.input) for c in connections}
    feeding = {(id(c.source), c.output) for c in connections}
    ports = []
    for pe in pes:
        ports += [_on(pe.id, p) for p in _ports(pe) if (id(pe), p.name) not in (fed | feeding)]
    details = {
        "pes": {pe.id: type(pe).__name__ for pe in pes},
        "connections": [f"{c.source.id}.{c.output} -> {c.target.id}.{c.input}" for c in connections],
    }
    doc = inspect.cleandoc(module.__doc__ or "")
    return Entry(name=name, kind="workflow", doc=doc, ports=tuple(ports), ports_from="graph", details=details, **common)


def _on(pe_id: str, port: Port) -> Port:
    return Port(port.direction, f"{pe_id}.{port.name}", port.type, port.grouping)


def _ports(pe: GenericPE) -> tuple[Port, ...]:
    inputs = [
        Port("input", name, _spelled(port.get(TYPE)), _grouping(port.get(GROUPING)))
        for name, port in pe.inputconnections.items()
    ]
    outputs = [Port("output", name, _spelled(port.get(TYPE))) for name, port in pe.outputconnections.items()]
    return tuple(inputs + outputs)


def _spelled(declared: Any) -> str | None:
    return None if declared is None else type_name(declared)


def _grouping(spec: Any) -> str:
    try:
        return parse_grouping(spec).describe()
    except GraphError:
        return repr(spec)  # d4py will refuse it when planned; the registry records what was written


def _spelled_grouping(text: str | None) -> str:
    """A grouping written as a literal reads as d4py spells it; any other expression, as written."""
    try:
        return _grouping(ast.literal_eval(text) if text else None)
    except (ValueError, SyntaxError):
        return str(text)


def _ports_from_source(cls: type[GenericPE], source: bytes) -> tuple[Port, ...]:
    inherited: dict[tuple[str, str], Port] = {}
    for base in cls.__mro__[1:]:
        if issubclass(base, GenericPE) and base.__module__.startswith("d4py."):
            try:
                inherited = {(p.direction, p.name): p for p in _ports(base())}
            except Exception:  # a d4py base that needs arguments declares its ports from them
                continue
            break
    for direction, name, tp, grouping in declared_ports(source, cls.__name__):
        if direction == "input":
            inherited[(direction, name)] = Port(direction, name, tp, _spelled_grouping(grouping))
        else:
            inherited[(direction, name)] = Port(direction, name, tp)
    return tuple(inherited.values())
