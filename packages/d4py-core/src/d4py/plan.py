"""The plan: what every backend receives and none re-derives.

``build_plan`` flattens composites, checks ports, groupings and declared
types, rejects cycles, chooses instance counts, forms partitions and attaches
the run's input. Backends only move items between the instances it describes.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from d4py._exceptions import CycleError, GraphError, PortError
from d4py.contracts import check_assignable, check_key_fits
from d4py.digraph import find_cycle, topological_order
from d4py.graph import Connection, WorkflowGraph
from d4py.groupings import SHUFFLE, Grouping, parse_grouping
from d4py.inputs import RunInput, resolve_inputs
from d4py.pe import GROUPING, TYPE, GenericPE, keeps_state

__all__ = ["Edge", "Node", "Plan", "Slot", "build_plan", "lay_out"]

Slot = tuple[int, int]  # (partition, index): one instance of every PE of a partition


@dataclass(frozen=True)
class Edge:
    """A connection between two PEs, with the grouping that routes it.

    ``local`` edges join two PEs fused into one partition: instance *k* of the
    source feeds instance *k* of the target directly.
    """

    index: int
    source: str
    output: str
    target: str
    input: str
    grouping: Grouping
    local: bool = False


@dataclass
class Node:
    """One PE of the plan: its prototype object and how many instances run."""

    id: str
    pe: GenericPE
    instances: int
    partition: int = -1

    @property
    def name(self) -> str:
        return self.pe.name


@dataclass
class Plan:
    """A checked, flattened graph ready to run."""

    nodes: dict[str, Node]  # in topological order
    edges: list[Edge]
    partitions: list[list[str]]
    inputs: dict[str, list[dict[str, Any]]]
    check_types: bool = False
    processes: int | None = None  # the budget: the most processes that run PEs (None: one per slot)
    outgoing: dict[tuple[str, str], list[Edge]] = field(default_factory=dict)
    incoming: dict[str, list[Edge]] = field(default_factory=dict)
    layout: list[list[Slot]] = field(default_factory=list)
    trace: float = 0.0  # the share of lineage chains whose items carry ids (d4py.lineage): 0 untraced, 1.0 all

    def __post_init__(self) -> None:
        out: dict[tuple[str, str], list[Edge]] = defaultdict(list)
        inc: dict[str, list[Edge]] = defaultdict(list)
        for edge in self.edges:
            out[(edge.source, edge.output)].append(edge)
            inc[edge.target].append(edge)
        self.outgoing, self.incoming = dict(out), dict(inc)
        if self.processes is None:
            instances = {number: self.nodes[pes[0]].instances for number, pes in enumerate(self.partitions)}
            self.layout = lay_out_beside(self.slots(), self.partition_links(), instances)
        else:
            self.layout = lay_out(self.slots(), self.processes)

    @property
    def roots(self) -> list[str]:
        return [pe_id for pe_id in self.nodes if pe_id not in self.incoming]

    def slots(self) -> list[Slot]:
        """Every (partition, index), partitions in the order items flow between them."""
        return [(p, k) for p in self.flow_order() for k in range(self.nodes[self.partitions[p][0]].instances)]

    def partition_links(self) -> set[tuple[int, int]]:
        """The partition graph: (source, target) for every pair of partitions an edge joins."""
        links = set()
        for edge in self.edges:
            source, target = self.nodes[edge.source].partition, self.nodes[edge.target].partition
            if source != target:
                links.add((source, target))
        return links

    def partition_cycle(self) -> list[int] | None:
        """Partitions that feed each other, if any (explicit ``graph.partitions`` can; fusing never does)."""
        return find_cycle(range(len(self.partitions)), sorted(self.partition_links()))

    def flow_order(self) -> list[int]:
        """Partition numbers, upstream before downstream (in number order where partitions feed each other)."""
        numbers = range(len(self.partitions))
        return topological_order(numbers, sorted(self.partition_links())) or list(numbers)

    def expected_ends(self, pe_id: str, index: int) -> set[tuple[int, int]]:
        """The (edge, source instance) pairs whose end-of-stream instance ``index`` awaits."""
        ends: set[tuple[int, int]] = set()
        for edge in self.incoming.get(pe_id, []):
            sources = [index] if edge.local else range(self.nodes[edge.source].instances)
            ends.update((edge.index, s) for s in sources)
        return ends

    def sent_ends(self, pe_id: str, index: int) -> list[tuple[Edge, int]]:
        """The (edge, target instance) pairs to which instance ``index`` sends end-of-stream when it finishes."""
        ends: list[tuple[Edge, int]] = []
        for port in self.nodes[pe_id].pe.outputconnections:
            for edge in self.outgoing.get((pe_id, port), []):
                targets = [index] if edge.local else range(self.nodes[edge.target].instances)
                ends.extend((edge, target) for target in targets)
        return ends

    def entry_ends(self, partition: int) -> set[tuple[int, int]]:
        """The (edge, source instance) pairs whose end-of-stream a partition awaits from outside itself."""
        members = set(self.partitions[partition])
        return {
            (edge.index, source)
            for edge in self.edges
            if edge.target in members and edge.source not in members
            for source in range(self.nodes[edge.source].instances)
        }

    def exit_ends(self, partition: int) -> list[tuple[Edge, int, int]]:
        """The (edge, target instance, source instance) end-of-stream marks that leave a partition.

        What its planned instances send out of it when they finish: a backend
        that runs the partition as a pool, not as those instances, sends these
        on their behalf once the pool is done.
        """
        members = set(self.partitions[partition])
        return [
            (edge, target, source)
            for pe_id in self.partitions[partition]
            for source in range(self.nodes[pe_id].instances)
            for edge, target in self.sent_ends(pe_id, source)
            if edge.target not in members
        ]

    def poolable(self, partition: int) -> bool:
        """Whether any worker may run this partition's items: no roots, only shuffled inputs, no state.

        Dynamic backends pool such partitions; every other partition keeps its
        planned instances in place.
        """
        members = self.partitions[partition]
        return all(
            pe_id in self.incoming
            and all(e.grouping == SHUFFLE for e in self.incoming[pe_id])
            and not keeps_state(self.nodes[pe_id].pe)
            for pe_id in members
        )

    def total_instances(self) -> int:
        return sum(node.instances for node in self.nodes.values())


def build_plan(
    graph: WorkflowGraph,
    inputs: RunInput = None,
    processes: int | None = None,
    *,
    check_types: bool = False,
    fuse: bool = True,
) -> Plan:
    """Compile ``graph`` into a :class:`Plan`.

    ``processes`` is the process budget: when given, instances of non-root PEs
    are scaled to share it in proportion to their ``numprocesses``; when None,
    each PE runs ``numprocesses`` instances. Roots run one instance unless
    their ``numprocesses`` says otherwise.
    """
    if not isinstance(graph, WorkflowGraph):
        raise GraphError(f"expected a WorkflowGraph, got {type(graph).__name__}")
    pes, connections = graph.flatten_connections()
    if not pes:
        raise GraphError("the workflow graph is empty: connect or add at least one PE")
    by_id = _index_pes(pes)
    edges = [_edge(i, c) for i, c in enumerate(connections)]
    order = _topological_order(by_id, edges)
    _check_types(by_id, edges)
    counts = _instance_counts(by_id, edges, processes)
    nodes = {pe_id: Node(pe_id, by_id[pe_id], counts[pe_id]) for pe_id in order}
    partitions = _partitions(graph, nodes, edges, fuse)
    local_edges = _local_edges(nodes, edges, partitions)
    edges = [Edge(e.index, e.source, e.output, e.target, e.input, e.grouping, e.index in local_edges) for e in edges]
    roots = [pe_id for pe_id in order if all(e.target != pe_id for e in edges)]
    return Plan(
        nodes=nodes,
        edges=edges,
        partitions=partitions,
        inputs=resolve_inputs(inputs, [nodes[r].pe for r in roots], [n.pe for i, n in nodes.items() if i not in roots]),
        check_types=check_types,
        processes=processes,
    )


def lay_out(slots: list[Slot], processes: int | None) -> list[list[Slot]]:
    """Share ``slots`` (in flow order) out among at most ``processes`` processes (None: one each).

    Each process takes a run of consecutive slots, so that between
    partitions items flow from a process to itself or to a later one only,
    and no two processes wait on each other's full queues. Runs differ in
    length by one at most.
    """
    if processes is None or len(slots) <= processes:
        return [[slot] for slot in slots]
    size, extra = divmod(len(slots), processes)
    layout, start = [], 0
    for number in range(processes):
        end = start + size + (1 if number < extra else 0)
        layout.append(slots[start:end])
        start = end
    return layout


def lay_out_beside(slots: list[Slot], links: set[tuple[int, int]], instances: dict[int, int]) -> list[list[Slot]]:
    """One process per slot (in flow order), except that a partition of one instance shares a parallel neighbour's.

    A partition with one instance joins the first instance of a parallel
    partition it feeds, when that one comes next (what it writes there is
    handed over in the process), else the last instance of a parallel
    partition that feeds it, when that one came just before. Every process is
    still a run of consecutive slots, so items flow from a process to itself
    or to a later one only; instance counts stay the plan's, so results
    cannot change. A chain of one-instance partitions keeps a process each.
    """
    joins_next, joins_previous = set(), set()
    for number, (partition, _) in enumerate(slots):
        if instances[partition] != 1:
            continue
        after = slots[number + 1] if number + 1 < len(slots) else None
        before = slots[number - 1] if number else None
        if after and _parallel(after, instances, first=True) and (partition, after[0]) in links:
            joins_next.add(number)
        elif before and _parallel(before, instances, first=False) and (before[0], partition) in links:
            joins_previous.add(number)
    layout: list[list[Slot]] = []
    for number, slot in enumerate(slots):
        if layout and (number in joins_previous or number - 1 in joins_next):
            layout[-1].append(slot)
        else:
            layout.append([slot])
    return layout


def _parallel(slot: Slot, instances: dict[int, int], first: bool) -> bool:
    """Whether ``slot`` is the first (else the last) instance of a partition with several."""
    partition, index = slot
    return instances[partition] > 1 and index == (0 if first else instances[partition] - 1)


def _index_pes(pes: list[GenericPE]) -> dict[str, GenericPE]:
    by_id: dict[str, GenericPE] = {}
    for pe in pes:
        if pe.id in by_id:
            raise GraphError(f"two PEs share the id {pe.id!r}; give each PE a unique id")
        by_id[pe.id] = pe
    return by_id


def _edge(index: int, c: Connection) -> Edge:
    # Ports are checked at connect(); a composite's mapping, or dispel4py 1.x code, may still name a missing one.
    for pe, port, kind in ((c.source, c.output, "output"), (c.target, c.input, "input")):
        ports = pe.outputconnections if kind == "output" else pe.inputconnections
        if port not in ports:
            valid = ", ".join(repr(name) for name in ports) or "none"
            raise PortError(f"PE '{pe.id}' has no {kind} {port!r}; its {kind}s are: {valid}")
    spec = c.target.inputconnections[c.input].get(GROUPING)
    try:
        grouping = parse_grouping(spec)
    except GraphError as error:
        raise GraphError(f"PE '{c.target.id}' input {c.input!r}: {error}") from None
    return Edge(index, c.source.id, c.output, c.target.id, c.input, grouping)


def _topological_order(by_id: dict[str, GenericPE], edges: list[Edge]) -> list[str]:
    links = [(e.source, e.target) for e in edges]
    position = {pe_id: i for i, pe_id in enumerate(by_id)}
    order = topological_order(by_id, links, key=position.__getitem__)
    if order is not None:
        return order
    cycle = find_cycle(by_id, links) or []
    path = " -> ".join([*cycle, cycle[0]])
    raise CycleError(f"the graph has a cycle ({path}); d4py runs acyclic graphs only")


def _declared(pe: GenericPE, port: str, kind: str) -> Any:
    ports = pe.inputconnections if kind == "input" else pe.outputconnections
    return ports[port].get(TYPE)


def _check_types(by_id: dict[str, GenericPE], edges: list[Edge]) -> None:
    for e in edges:
        out_type = _declared(by_id[e.source], e.output, "output")
        in_type = _declared(by_id[e.target], e.input, "input")
        source, target = f"PE '{e.source}' output {e.output!r}", f"PE '{e.target}' input {e.input!r}"
        check_assignable(out_type, in_type, source, target)
        check_key_fits(e.grouping, in_type if in_type is not None else out_type, target)


def _instance_counts(by_id: dict[str, GenericPE], edges: list[Edge], processes: int | None) -> dict[str, int]:
    declared = {}
    for pe_id, pe in by_id.items():
        try:
            declared[pe_id] = max(1, int(pe.numprocesses))
        except (TypeError, ValueError):
            raise GraphError(f"PE '{pe_id}' has numprocesses={pe.numprocesses!r}; use a positive integer") from None
    incoming: dict[str, list[Edge]] = defaultdict(list)
    for e in edges:
        incoming[e.target].append(e)
    # A PE whose every input is 'global' receives everything on one instance.
    for pe_id, inc in incoming.items():
        if all(e.grouping.kind == "global" for e in inc):
            declared[pe_id] = 1
    if processes is None:
        return declared
    if processes < 1:
        raise GraphError(f"the process budget must be at least 1, not {processes}")
    scalable = [i for i in by_id if incoming.get(i) and not all(e.grouping.kind == "global" for e in incoming[i])]
    fixed = sum(n for i, n in declared.items() if i not in scalable)
    weight = sum(declared[i] for i in scalable)
    available = processes - fixed
    for pe_id in scalable:
        declared[pe_id] = max(1, available * declared[pe_id] // weight) if weight else 1
    return declared


def _partitions(graph: WorkflowGraph, nodes: dict[str, Node], edges: list[Edge], fuse: bool) -> list[list[str]]:
    """Group PEs that share a process: explicit ``graph.partitions``, else fused chains (when ``fuse``)."""
    assigned: dict[str, int] = {}
    groups: list[list[str]] = []
    for pes in graph.partitions or []:
        ids = [pe.id for pe in pes]
        unknown = [i for i in ids if i not in nodes]
        if unknown:
            raise GraphError(f"graph.partitions names PEs that are not in the graph: {', '.join(unknown)}")
        for pe_id in ids:
            if pe_id in assigned:
                raise GraphError(f"PE '{pe_id}' appears in two partitions")
            assigned[pe_id] = len(groups)
        groups.append(ids)
    if fuse and not graph.partitions:
        for e in _fusable(nodes, edges):
            a, b = assigned.get(e.source), assigned.get(e.target)
            if a is None and b is None:
                assigned[e.source] = assigned[e.target] = len(groups)
                groups.append([e.source, e.target])
            elif a is not None and b is None:
                assigned[e.target] = a
                groups[a].append(e.target)
    for pe_id in nodes:
        if pe_id not in assigned:
            assigned[pe_id] = len(groups)
            groups.append([pe_id])
    order = list(nodes)
    targets = {e.target for e in edges}
    for index, members in enumerate(groups):
        members.sort(key=order.index)
        # A partition holding a root runs as many instances as that root.
        roots = [m for m in members if m not in targets]
        count = max(nodes[m].instances for m in roots or members)
        for member in members:
            nodes[member].instances = count
            nodes[member].partition = index
    return groups


def _fusable(nodes: dict[str, Node], edges: list[Edge]) -> list[Edge]:
    """One-to-one links: the source's only edge into the target's only edge, shuffled."""
    out_degree: dict[str, int] = defaultdict(int)
    in_degree: dict[str, int] = defaultdict(int)
    for e in edges:
        out_degree[e.source] += 1
        in_degree[e.target] += 1
    order = list(nodes)
    candidates = [
        e
        for e in edges
        if out_degree[e.source] == 1
        and in_degree[e.target] == 1
        and e.grouping == SHUFFLE
        and nodes[e.source].instances == nodes[e.target].instances
    ]
    return sorted(candidates, key=lambda e: order.index(e.source))


def _local_edges(nodes: dict[str, Node], edges: list[Edge], partitions: list[list[str]]) -> set[int]:
    return {
        e.index
        for e in edges
        if len(partitions[nodes[e.source].partition]) > 1
        and nodes[e.source].partition == nodes[e.target].partition
        and e.grouping == SHUFFLE
    }
