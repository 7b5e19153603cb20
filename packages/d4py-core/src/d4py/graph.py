"""WorkflowGraph: PEs and composites joined by connections from outputs to inputs."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Union

from d4py._exceptions import GraphError, PortError
from d4py.digraph import MultiDiGraph
from d4py.pe import GenericPE

__all__ = ["Connection", "PENumbers", "WorkflowGraph"]

Node = Union[GenericPE, "WorkflowGraph"]


class PENumbers:
    """The counter that numbers PEs as they join a graph: ids such as ``TestProducer0``.

    dispel4py numbered PEs with one counter per interpreter, and ids appear in
    users' ``-d`` inputs, so d4py does the same. dispel4py 1.x code resets it
    as ``WorkflowNode.node_counter = 0``; that name is this class.
    """

    node_counter = 0

    @classmethod
    def take(cls) -> int:
        number = cls.node_counter
        cls.node_counter += 1
        return number


@dataclass(frozen=True)
class Connection:
    """One flattened connection from a PE's output port to a PE's input port."""

    source: GenericPE
    output: str
    target: GenericPE
    input: str


class WorkflowGraph:
    """A directed multigraph of PEs and composites.

    A graph with ``inputmappings`` / ``outputmappings`` can itself be used as a
    node of another graph (see :class:`d4py.CompositePE`).
    """

    def __init__(self) -> None:
        self.graph = MultiDiGraph()
        self.inputmappings: dict[str, tuple[Node, str]] = {}
        self.outputmappings: dict[str, tuple[Node, str]] = {}
        self.partitions: list[list[GenericPE]] | None = None
        self.name: str = type(self).__name__

    def add(self, node: Node) -> Node:
        """Add a PE or composite to the graph (``connect`` does this for you)."""
        if isinstance(node, GenericPE):
            if not getattr(node, "_d4py_numbered", False):
                node.id = f"{node.name}{PENumbers.take()}"
                node._d4py_numbered = True  # type: ignore[attr-defined]
        elif not isinstance(node, WorkflowGraph):
            raise GraphError(
                f"cannot add {node!r} to a workflow graph: expected a PE (a GenericPE subclass) or a composite"
            )
        self.graph.add_node(node)
        return node

    def connect(self, source: Node, output: str, target: Node, input: str) -> None:  # noqa: A002
        """Connect ``source``'s output port to ``target``'s input port."""
        _check_port(source, output, "output")
        _check_port(target, input, "input")
        if source is target:
            raise GraphError(f"cannot connect {_label(source)} to itself: d4py graphs have no cycles")
        self.add(source)
        self.add(target)
        self.graph.add_edge(source, target, output=output, input=input)

    def nodes(self) -> list[Node]:
        """The PEs and composites directly in this graph, in insertion order."""
        return list(self.graph.nodes)

    def flatten_connections(self) -> tuple[list[GenericPE], list[Connection]]:
        """Return every PE and every PE-to-PE connection, composites expanded."""
        pes: dict[int, GenericPE] = {}
        connections: list[Connection] = []
        self._collect(pes, connections)
        return list(pes.values()), connections

    def _collect(self, pes: dict[int, GenericPE], connections: list[Connection]) -> None:
        for node in self.graph.nodes:
            if isinstance(node, WorkflowGraph):
                node._collect(pes, connections)
            else:
                pes.setdefault(id(node), node)
        for source, target, data in self.graph.edges(data=True):
            for pe, out in _resolve(source, data["output"], "output"):
                for dst, inp in _resolve(target, data["input"], "input"):
                    connections.append(Connection(pe, out, dst, inp))

    def flatten(self) -> None:
        """Replace composites by their contents, in place (dispel4py 1.x)."""
        pes, connections = self.flatten_connections()
        self.graph = MultiDiGraph()
        self.graph.add_nodes_from(pes)
        for c in connections:
            self.graph.add_edge(c.source, c.target, output=c.output, input=c.input)

    def propagate_types(self) -> None:
        """Give each PE the types its sources' outputs declare, upstream first (dispel4py 1.x).

        Each PE's ``setInputTypes`` receives ``{input: type}`` from the
        ``getOutputTypes`` of the PEs feeding it, called after theirs, so a PE
        whose output types follow its inputs passes them on.
        """
        pes, connections = self.flatten_connections()
        feeding: dict[int, list[Connection]] = {}
        for c in connections:
            feeding.setdefault(id(c.target), []).append(c)
        assigned: set[int] = set()

        def assign(pe: GenericPE) -> None:
            assigned.add(id(pe))
            types = {}
            for c in feeding.get(id(pe), []):
                if id(c.source) not in assigned:
                    assign(c.source)
                types[c.input] = c.source.getOutputTypes().get(c.output)
            pe.setInputTypes(types)

        for pe in pes:
            if id(pe) not in assigned:
                assign(pe)

    def getContainedObject(self) -> WorkflowGraph:  # noqa: N802 - dispel4py name
        """This graph, as a node of another (dispel4py 1.x's nodes wrapped their PE or graph)."""
        return self

    def getContainedObjects(self) -> list[Node]:  # noqa: N802 - dispel4py name
        """Return the nodes of this graph (dispel4py 1.x)."""
        return self.nodes()

    def _repr_svg_(self) -> str | None:
        from d4py.drawing import render

        try:
            return render(self, "svg").decode()
        except GraphError:
            return None

    def __iter__(self) -> Iterator[Node]:
        return iter(self.graph.nodes)


def _label(node: Node) -> str:
    if isinstance(node, GenericPE):
        return f"PE '{node.id}'"
    return f"composite '{node.name}'"


def _ports(node: Node, kind: str) -> dict[str, Any]:
    if isinstance(node, GenericPE):
        return node.inputconnections if kind == "input" else node.outputconnections
    if isinstance(node, WorkflowGraph):
        return node.inputmappings if kind == "input" else node.outputmappings
    raise GraphError(f"cannot connect {node!r}: expected a PE (a GenericPE subclass) or a composite")


def _check_port(node: Node, port: str, kind: str) -> None:
    ports = _ports(node, kind)
    if port not in ports:
        valid = ", ".join(repr(p) for p in ports) or "none"
        raise PortError(f"{_label(node)} has no {kind} {port!r}; its {kind}s are: {valid}")


def _resolve(node: Node, port: str, kind: str) -> list[tuple[GenericPE, str]]:
    """Follow composite port mappings down to the PE ports they stand for."""
    if isinstance(node, GenericPE):
        return [(node, port)]
    mapping = (node.inputmappings if kind == "input" else node.outputmappings).get(port)
    if mapping is None:
        raise PortError(f"{_label(node)} does not map its {kind} {port!r} to an inner PE")
    inner, inner_port = mapping
    return _resolve(inner, inner_port, kind)
