"""Lineage ids: who wrote an item, what it derives from, and what costs nothing when a run is not traced."""

from __future__ import annotations

import pytest

from d4py import WorkflowGraph, build_plan, run
from d4py.lineage import RUN_INPUT, Lineage, Written, instance_number, kept, roots, writer
from d4py.testing import pes as p
from d4py.testing.observing import LineageWatch


def _plan():
    graph = WorkflowGraph()
    graph.connect(p.Lines(["a b"]), "output", p.SplitWords(), "input")
    return build_plan(graph)


def test_an_id_names_its_writer_and_count_for_planned_instances_run_inputs_and_pool_copies():
    plan = _plan()
    first, second = plan.nodes
    for pe_id, index in [(first, 0), (first, RUN_INPUT), (second, 0), (second, 37)]:
        lineage = Lineage(instance_number(plan, pe_id, index), 0, 1.0, Written())
        lineage.next_id("output", "x")
        item_id = lineage.next_id("output", "y")
        assert writer(plan, item_id) == (pe_id, index, 2) and kept(item_id)
    with pytest.raises(ValueError, match="4,094 instances"):
        instance_number(plan, first, 5000)


def test_roots_stop_at_run_inputs_with_data_and_at_a_producers_items():
    records = {
        4: (4, "output", (), "line one"),  # the producer's item: a root
        6: (6, "", (), {"input": "line two"}),  # a -d input: a root
        8: (8, "output", (4, 6), ("word", 2)),
        10: (10, "output", (8, 99), ("word", 2)),  # 99 not kept (sampled): skipped
    }
    assert roots(records, 10) == {4, 6}


def test_sampled_ids_are_kept_by_the_same_rule_in_every_process():
    def ids(share: float) -> list[int]:
        lineage = Lineage(5, 4, share, None)
        return [lineage.next_id("output", n) for n in range(200)]

    assert ids(0.3) == ids(0.3)
    assert 20 < sum(kept(i) for i in ids(0.3)) < 100
    assert all(kept(i) for i in ids(1.0))


def test_an_untraced_run_ignores_note_input_and_write_derived():
    graph = WorkflowGraph()
    split, counter = p.SplitWords(), p.WordCounter()
    graph.connect(split, "output", counter, "input")
    result = run(graph, {split: [{"input": "b a b"}]})
    assert sorted(result.output(counter.id)) == [("a", 1), ("b", 2)]


def test_a_traced_run_with_the_budget_scaling_instances_traces_every_output():
    graph = WorkflowGraph()
    split, counter = p.SplitWords(), p.WordCounter(numprocesses=4)
    graph.connect(split, "output", counter, "input")
    watch = LineageWatch()
    run(graph, {split: [{"input": "b a b"}, {"input": "c"}]}, processes=3, plugins=[watch])
    assert [(item, [root for _, root in found]) for _, item, found in watch.explain()] == [
        ("('a', 1)", ["{'input': 'b a b'}"]),
        ("('b', 2)", ["{'input': 'b a b'}"]),
        ("('c', 1)", ["{'input': 'c'}"]),
    ]


def test_each_item_a_producer_writes_is_a_chain_of_its_own_when_sampled():
    graph = WorkflowGraph()
    lines, split = p.Lines([f"line {n}" for n in range(40)]), p.SplitWords()
    graph.connect(lines, "output", split, "input")
    watch = LineageWatch(share=0.5)
    run(graph, plugins=[watch])
    kept_lines = {record[3] for pe_id, _, record in watch.records.values() if pe_id == lines.id}
    assert 5 < len(kept_lines) < 35  # sampled line by line, not all or nothing
    words = [record for pe_id, _, record in watch.records.values() if pe_id == split.id]
    assert len(words) == 2 * len(kept_lines)  # both words of every kept line, none of the others


def test_an_output_a_dispel4py_pe_never_declared_is_traced_like_any_other():
    from d4py import _compat

    _compat.install()  # as the d4py command does for a workflow file
    from dispel4py.base import IterativePE as Dispel4pyIterative

    class Squares(Dispel4pyIterative):
        def _process(self, data):
            self.write("squares", data * data)  # never declared: collected, as dispel4py 1.x did

    graph = WorkflowGraph()
    source, squares = p.Numbers(3), Squares()
    graph.connect(source, "output", squares, "input")
    watch = LineageWatch()
    watch.unconnected = set()
    result = run(graph, plugins=[watch])
    assert result.output(squares.id, "squares") == [0, 1, 4]
    written = {record[3]: record for pe_id, _, record in watch.records.values() if pe_id == squares.id}
    assert sorted(written) == [0, 1, 4] and all(record[1] == "squares" for record in written.values())
    assert all(watch.records[record[2][0]][2][3] == int(item**0.5) for item, record in written.items())


def test_written_rows_read_back_as_records_and_take_leaves_the_same_columns_empty():
    written = Written()
    ids = written.ids
    written.add(3, "", (), {"input": 1})
    written.add(5, "output", (3,), "a")
    written.add(7, None, (3, 5), None)
    assert list(written.records()) == [(3, "", (), {"input": 1}), (5, "output", (3,), "a"), (7, None, (3, 5), None)]
    taken = written.take()
    assert len(taken) == 3 and list(taken.records())[2] == (7, None, (3, 5), None)
    assert len(written) == 0 and not written.several and written.ids is ids  # the runtime appends to these
