"""The plan: instance counts, budget, partitions and fusion, end-of-stream bookkeeping."""

from __future__ import annotations

import itertools

import pytest

from d4py import GraphError, WorkflowGraph, build_plan
from d4py.testing.pes import Add, KeyCounter, Numbers, Pass, Summary


def _chain(*pes):
    graph = WorkflowGraph()
    for a, b in itertools.pairwise(pes):
        graph.connect(a, "output", b, "input")
    return graph


def test_declared_counts_without_a_budget():
    source, middle, gather = Numbers(1), Pass(), Summary(grouping="global", numprocesses=5)
    middle.numprocesses = 4
    plan = build_plan(_chain(source, middle, gather))
    counts = {pe_id: node.instances for pe_id, node in plan.nodes.items()}
    assert counts == {source.id: 1, middle.id: 4, gather.id: 1}  # global inputs need one instance


def test_budget_is_shared_in_proportion():
    source, a, b = Numbers(1), Add(1), KeyCounter([0], numprocesses=3)
    a.numprocesses = 1
    plan = build_plan(_chain(source, a, b), processes=9)
    assert plan.nodes[source.id].instances == 1
    assert plan.nodes[a.id].instances == 2 and plan.nodes[b.id].instances == 6


def test_budget_smaller_than_the_graph_still_gives_each_pe_one_instance():
    pes = [Numbers(1), Add(1), Add(2), KeyCounter([0])]
    plan = build_plan(_chain(*pes), processes=2)
    assert all(node.instances == 1 for node in plan.nodes.values())


def test_bad_numprocesses_is_named():
    pe = Pass()
    pe.numprocesses = "many"
    with pytest.raises(GraphError, match=r"numprocesses='many'"):
        build_plan(_chain(Numbers(1), pe))


def test_one_to_one_chains_fuse_into_one_partition():
    source, a, b, keyed = Numbers(1), Add(1), Add(2), KeyCounter([0])
    plan = build_plan(_chain(source, a, b, keyed))
    assert [source.id, a.id, b.id] in plan.partitions
    assert [keyed.id] in plan.partitions
    assert [e.local for e in plan.edges] == [True, True, False]


def test_tee_is_not_fused():
    graph = WorkflowGraph()
    source, left, right = Numbers(1), Pass(), Pass()
    graph.connect(source, "output", left, "input")
    graph.connect(source, "output", right, "input")
    plan = build_plan(graph)
    assert all(len(members) == 1 for members in plan.partitions)


def test_explicit_partitions_are_honoured_and_validated():
    source, a, b = Numbers(1), Add(1), Add(2)
    graph = _chain(source, a, b)
    graph.partitions = [[source], [a, b]]
    plan = build_plan(graph)
    assert plan.partitions == [[source.id], [a.id, b.id]]
    graph.partitions = [[source, a], [a, b]]
    with pytest.raises(GraphError, match="appears in two partitions"):
        build_plan(graph)


def test_end_of_stream_is_awaited_per_edge_and_upstream_instance():
    source, middle, last = Numbers(1), Pass(), Summary(numprocesses=2)
    middle.numprocesses = 3
    plan = build_plan(_chain(source, middle, last), fuse=False)
    edge = plan.incoming[last.id][0]
    assert plan.expected_ends(last.id, 1) == {(edge.index, s) for s in range(3)}
    assert plan.expected_ends(source.id, 0) == set()


def test_poolable_partitions_are_stateless_shuffled_and_not_roots():
    source, stateless, keyed, total = Numbers(1), Add(1), KeyCounter([0]), Summary()
    graph = WorkflowGraph()
    graph.connect(source, "output", stateless, "input")
    graph.connect(stateless, "output", keyed, "input")
    graph.connect(stateless, "output", total, "input")
    plan = build_plan(graph, fuse=False)
    poolable = {pe_id for pe_id, node in plan.nodes.items() if plan.poolable(node.partition)}
    assert poolable == {stateless.id}  # root, group_by and postprocess each pin a PE


def test_declared_state_pins_a_pe():
    class Remembers(Add):
        stateful = True

    plan = build_plan(_chain(Numbers(1), Remembers(1)), fuse=False)
    assert not any(plan.poolable(i) for i in range(len(plan.partitions)))


def _tee_and_chain():
    """A source teeing into five sinks and into a three-PE chain: 9 PEs, 7 partitions."""
    graph = WorkflowGraph()
    source, sinks, chain = Numbers(5), [Pass() for _ in range(5)], [Add(1), Add(2), Pass()]
    for sink in [*sinks, chain[0]]:
        graph.connect(source, "output", sink, "input")
    for a, b in itertools.pairwise(chain):
        graph.connect(a, "output", b, "input")
    return graph, source


def test_the_layout_puts_every_slot_in_at_most_n_processes_in_flow_order():
    graph, source = _tee_and_chain()
    plan = build_plan(graph, processes=3)
    assert len(plan.partitions) == 7 and plan.processes == 3
    assert [len(slots) for slots in plan.layout] == [3, 2, 2]
    laid_out = [slot for slots in plan.layout for slot in slots]
    assert laid_out == plan.slots() and len(set(laid_out)) == 7
    assert plan.layout[0][0] == (plan.nodes[source.id].partition, 0)  # the source first: items flow forward


def test_without_a_budget_or_within_it_each_slot_has_a_process():
    graph, _ = _tee_and_chain()
    assert [len(slots) for slots in build_plan(graph).layout] == [1] * 7
    assert [len(slots) for slots in build_plan(graph, processes=12).layout] == [1] * 7


def _pairs_design():
    """Stations -> Prepare x2 -> Pairs -> Correlate x2 -> Keep, with a one-instance chain after Keep."""
    stations, prepare, pairs, correlate = Numbers(8), Add(1), Pass(), Add(2)
    keep, report, file = Summary(grouping="global"), Summary(grouping="global"), Summary(grouping="global")
    prepare.numprocesses = correlate.numprocesses = 2
    graph = WorkflowGraph()
    for a, b in itertools.pairwise([stations, prepare, pairs, correlate, keep, report, file]):
        graph.connect(a, "output", b, "input")
    return graph, [stations, prepare, pairs, correlate, keep, report, file]


def test_without_a_budget_a_one_instance_pe_shares_the_process_of_a_parallel_neighbour():
    graph, pes = _pairs_design()
    plan = build_plan(graph, fuse=False)
    names = [[plan.partitions[partition][0] + str(index) for partition, index in run] for run in plan.layout]
    stations, prepare, pairs, correlate, keep, report, file = (pe.id for pe in pes)
    assert names == [
        [stations + "0", prepare + "0"],  # joins the first instance of the PE it feeds
        [prepare + "1"],
        [pairs + "0", correlate + "0"],  # the PE it feeds rather than the one feeding it
        [correlate + "1", keep + "0"],  # the last instance of the PE feeding it
        [report + "0"],  # a chain of one-instance PEs keeps a process each
        [file + "0"],
    ]
    assert [slot for run in plan.layout for slot in run] == plan.slots()  # runs of slots in flow order


def test_partition_links_and_cycles():
    source, a, b = Numbers(1), Pass(), Pass()
    graph = _chain(source, a, b)
    graph.partitions = [[source, b], [a]]
    plan = build_plan(graph)
    assert plan.partition_links() == {(0, 1), (1, 0)}
    assert sorted(plan.partition_cycle() or []) == [0, 1]
    assert build_plan(_chain(Numbers(1), Pass(), Pass())).partition_cycle() is None


def test_sent_and_entry_ends_match_what_each_instance_awaits():
    source, middle, last = Numbers(1), Pass(), Pass()
    middle.numprocesses, last.numprocesses = 2, 3
    graph = _chain(source, middle, last)
    graph.partitions = [[source], [middle], [last]]
    plan = build_plan(graph)
    sent = {(edge.index, target, index) for index in range(2) for edge, target in plan.sent_ends(middle.id, index)}
    awaited = {(edge, target, src) for target in range(3) for edge, src in plan.expected_ends(last.id, target)}
    assert sent == awaited and len(sent) == 6
    assert plan.entry_ends(plan.nodes[last.id].partition) == {(1, 0), (1, 1)}
    leaving = {(edge.index, target, src) for edge, target, src in plan.exit_ends(plan.nodes[middle.id].partition)}
    assert leaving == sent


def test_exit_ends_leave_out_the_edges_inside_a_partition():
    source, first, second, last = Numbers(1), Pass(), Pass(), Pass()
    first.numprocesses = second.numprocesses = 2
    graph = _chain(source, first, second, last)
    plan = build_plan(graph)
    fused = plan.nodes[first.id].partition
    assert plan.nodes[second.id].partition == fused  # a one-to-one chain: one partition
    assert {(edge.target, target, src) for edge, target, src in plan.exit_ends(fused)} == {
        (last.id, 0, 0),
        (last.id, 0, 1),
    }
