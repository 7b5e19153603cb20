"""The conformance suite every backend inherits.

    from d4py.testing.contract import BackendContract

    class TestMyBackend(BackendContract):
        backend = "mine"
        options = ["workers=2"]

Each scenario builds a graph, runs it on ``backend`` and checks results that
are known in advance, compared as multisets where the contract allows any
order. Set ``processes`` to run every scenario under a process budget: the
plan then scales instance counts, and the results must not change. As in
dispel4py, PEs that aggregate declare ``'global'`` (or group_by) so that a
budget cannot split their state.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import pytest

from d4py._exceptions import PEFailure, UsageError
from d4py.backend import RunResult
from d4py.composite import CompositePE, create_iterative_chain
from d4py.graph import WorkflowGraph
from d4py.inputs import RunInput
from d4py.lineage import writer
from d4py.plan import build_plan
from d4py.plugins import get_backend
from d4py.runner import run as run_here
from d4py.testing import assert_same_items, run_graph
from d4py.testing import pes as p
from d4py.testing.observing import WATCH_FILE, InstanceWatch, LineageWatch, install_watch_plugin

__all__ = ["BackendContract"]

# A workflow file of its own, for runs of the d4py command; ids are numbered by creation order.
_WATCHED_WORKFLOW = """
from d4py import WorkflowGraph
from d4py.testing.pes import Multiply, Numbers, Pass

graph = WorkflowGraph()
source, double, last = Numbers(1), Multiply(2), Pass()
double.numprocesses = 2
graph.connect(source, "output", double, "input")
graph.connect(double, "output", last, "input")
"""

# PEs that print and log, for runs of the d4py command: each line says which instance wrote it.
_TALKING_WORKFLOW = """
from d4py import WorkflowGraph
from d4py.testing.pes import Numbers, Pass


class Talk(Pass):
    def _process(self, data):
        print(f"talk {self.instance_index} printed {data}", flush=True)
        self.log(f"talk {self.instance_index} logged {data}")


graph = WorkflowGraph()
talk = Talk()
talk.numprocesses = 2
graph.connect(Numbers(12), "output", talk, "input")
"""

WORDS = ["alpha", "beta", "gamma", "delta", "alpha", "beta", "alpha", "épsilon", "ζeta", ""]


def _add_one(x: int) -> int:
    return x + 1


def _times(x: int, factor: int) -> int:
    return x * factor


class BackendContract:
    """Scenarios every backend must pass; subclass and set ``backend``."""

    backend: ClassVar[str] = ""
    options: ClassVar[Sequence[str]] = ()
    processes: ClassVar[int | None] = None

    def run(self, graph: WorkflowGraph, inputs: RunInput = None, **settings: Any) -> RunResult:
        settings = {"processes": self.processes, "options": list(self.options), **settings}
        return run_graph(graph, inputs, self.backend, **settings)

    # -- shapes ---------------------------------------------------------------

    def test_pipeline(self) -> None:
        graph = WorkflowGraph()
        source, add, double, last = p.Numbers(50), p.Add(1), p.Multiply(2), p.Pass()
        graph.connect(source, "output", add, "input")
        graph.connect(add, "output", double, "input")
        graph.connect(double, "output", last, "input")
        result = self.run(graph)
        assert_same_items(result.output(last.id), [(i + 1) * 2 for i in range(50)])
        assert result.counts[add.id] == 50

    def test_tee_gives_every_branch_every_item(self) -> None:
        graph = WorkflowGraph()
        source, left, right = p.Numbers(20), p.Add(100), p.Add(200)
        graph.connect(source, "output", left, "input")
        graph.connect(source, "output", right, "input")
        result = self.run(graph)
        assert_same_items(result.output(left.id), [i + 100 for i in range(20)])
        assert_same_items(result.output(right.id), [i + 200 for i in range(20)])

    def test_fan_in_into_one_port_of_a_multi_instance_pe(self) -> None:
        graph = WorkflowGraph()
        first, second = p.Numbers(30), p.Numbers(30, start=1000)
        merge, total, tap = p.Pass(), p.Summary(grouping="global"), p.Pass()
        merge.numprocesses = 3
        graph.connect(first, "output", merge, "input")
        graph.connect(second, "output", merge, "input")
        graph.connect(merge, "output", total, "input")
        graph.connect(merge, "output", tap, "input")
        result = self.run(graph)
        expected = list(range(30)) + list(range(1000, 1030))
        assert_same_items(result.output(tap.id), expected)
        assert [(count, value) for count, value, _ in result.output(total.id)] == [(60, sum(expected))]

    def test_split_and_merge_over_two_ports(self) -> None:
        graph = WorkflowGraph()
        source, split, evens, odds, merge = p.Numbers(40), p.Split(), p.Pass(), p.Multiply(10), p.Merge()
        graph.connect(source, "output", split, "input")
        graph.connect(split, "even", evens, "input")
        graph.connect(split, "odd", odds, "input")
        graph.connect(evens, "output", merge, "left")
        graph.connect(odds, "output", merge, "right")
        result = self.run(graph)
        expected = [("left", i) for i in range(0, 40, 2)] + [("right", i * 10) for i in range(1, 40, 2)]
        assert_same_items(result.output(merge.id), expected)

    def test_several_producers(self) -> None:
        graph = WorkflowGraph()
        a, b, sink = p.Numbers(5), p.Numbers(5, start=50), p.Pass()
        graph.connect(a, "output", sink, "input")
        graph.connect(b, "output", sink, "input")
        result = self.run(graph, 3)
        assert_same_items(result.output(sink.id), 3 * (list(range(5)) + list(range(50, 55))))

    # -- groupings ------------------------------------------------------------

    def _keyed(self, grouping: Any, instances: int) -> tuple[WorkflowGraph, Any]:
        graph = WorkflowGraph()
        words, pair = p.Words(WORDS), p.Pair()
        pair.numprocesses = 2
        counter = p.KeyCounter(grouping, numprocesses=instances)
        graph.connect(words, "output", pair, "input")
        graph.connect(pair, "output", counter, "input")
        return graph, counter

    def test_group_by_sends_each_key_to_one_instance(self) -> None:
        graph, counter = self._keyed([0], instances=3)
        result = self.run(graph, 4)
        rows = result.output(counter.id)
        keys = Counter(key for key, _, _ in rows)
        assert all(n == 1 for n in keys.values()), f"a key reached several instances: {rows}"
        assert {key: count for key, count, _ in rows} == {w: 4 * WORDS.count(w) for w in set(WORDS)}

    def test_group_by_key_function(self) -> None:
        graph, counter = self._keyed(lambda item: len(item[0]) % 2, instances=2)
        result = self.run(graph, 2)
        rows = result.output(counter.id)
        keys = Counter(key for key, _, _ in rows)
        assert sum(count for _, count, _ in rows) == 2 * len(WORDS)
        tokens_by_parity: dict[int, set[str]] = {}
        for key, _, token in rows:
            tokens_by_parity.setdefault(len(key) % 2, set()).add(token)
        assert all(len(tokens) == 1 for tokens in tokens_by_parity.values()), rows
        assert keys

    def test_one_to_all_gives_every_instance_every_item(self) -> None:
        graph = WorkflowGraph()
        source, middle = p.Numbers(10), p.Pass()
        middle.numprocesses = 2
        fan = p.Tagged(grouping="all", numprocesses=3)
        graph.connect(source, "output", middle, "input")
        graph.connect(middle, "output", fan, "input")
        result = self.run(graph)
        rows = result.output(fan.id)
        instances = self._instances_of(graph, fan)
        assert instances > 1
        assert_same_items([item for item, _ in rows], instances * list(range(10)))
        by_item: dict[int, set[str]] = {}
        for item, token in rows:
            by_item.setdefault(item, set()).add(token)
        assert all(len(tokens) == instances for tokens in by_item.values())

    def test_global_gathers_everything_on_one_instance(self) -> None:
        graph = WorkflowGraph()
        source, middle = p.Numbers(25), p.Pass()
        middle.numprocesses = 3
        gather = p.Summary(grouping="global", numprocesses=4)
        graph.connect(source, "output", middle, "input")
        graph.connect(middle, "output", gather, "input")
        result = self.run(graph)
        assert [(count, total) for count, total, _ in result.output(gather.id)] == [(25, sum(range(25)))]

    def test_shuffle_delivers_each_item_once(self) -> None:
        graph = WorkflowGraph()
        source, middle = p.Numbers(60), p.Pass()
        middle.numprocesses = 2
        spread = p.Tagged(numprocesses=3)
        graph.connect(source, "output", middle, "input")
        graph.connect(middle, "output", spread, "input")
        result = self.run(graph)
        assert_same_items([item for item, _ in result.output(spread.id)], range(60))

    # -- structure ------------------------------------------------------------

    def test_composite_chains(self) -> None:
        chain = create_iterative_chain([_add_one, (_times, {"factor": 3})])

        def inner(composite: CompositePE, amount: int) -> None:
            add, nested = p.Add(amount), create_iterative_chain([_add_one])
            composite.connect(add, "output", nested, "input")
            composite._map_input("input", add, "input")
            composite._map_output("output", nested, "output")

        outer = CompositePE(inner, {"amount": 10})
        graph = WorkflowGraph()
        source, last = p.Numbers(10), p.Pass()
        graph.connect(source, "output", chain, "input")
        graph.connect(chain, "output", outer, "input")
        graph.connect(outer, "output", last, "input")
        result = self.run(graph)
        assert_same_items(result.output(last.id), [(i + 1) * 3 + 10 + 1 for i in range(10)])

    def test_explicit_partitions(self) -> None:
        graph = WorkflowGraph()
        source, a, b, c = p.Numbers(20), p.Add(1), p.Multiply(2), p.Pass()
        graph.connect(source, "output", a, "input")
        graph.connect(a, "output", b, "input")
        graph.connect(b, "output", c, "input")
        graph.partitions = [[source, a], [b, c]]
        result = self.run(graph)
        assert_same_items(result.output(c.id), [(i + 1) * 2 for i in range(20)])

    def test_partitions_that_feed_each_other_run_or_are_refused(self) -> None:
        graph = WorkflowGraph()
        a, b, c = p.Numbers(3), p.Pass(), p.Pass()
        graph.connect(a, "output", b, "input")
        graph.connect(b, "output", c, "input")
        graph.partitions = [[a, c], [b]]
        if get_backend(self.backend, available=False).runs_partition_cycles:  # the declared capability
            assert_same_items(self.run(graph).output(c.id), [0, 1, 2])
        else:
            with pytest.raises(UsageError, match=f"{self.backend!r} cannot run partitions that feed each other"):
                self.run(graph)

    def test_postprocess_output_flows_downstream(self) -> None:
        graph = WorkflowGraph()
        source, total, after = p.Numbers(100), p.Summary(grouping="global"), p.Pass()
        graph.connect(source, "output", total, "input")
        graph.connect(total, "output", after, "input")
        result = self.run(graph)
        assert [(count, value) for count, value, _ in result.output(after.id)] == [(100, sum(range(100)))]

    def test_lifecycle_runs_once_per_instance(self) -> None:
        graph = WorkflowGraph()
        source, life = p.Numbers(30), p.Lifecycle(numprocesses=3)
        graph.connect(source, "output", life, "input")
        rows = self.run(graph).output(life.id)
        assert all(pre == 1 for _, pre, _ in rows)
        assert sum(items for _, _, items in rows) == 30
        assert len(rows) == self._instances_of(graph, life)

    def test_each_instance_knows_its_index_and_count(self) -> None:
        graph = WorkflowGraph()
        source, who = p.Numbers(40), p.WhoAmI(numprocesses=3)
        graph.connect(source, "output", who, "input")
        rows = self.run(graph).output(who.id)
        count = self._instances_of(graph, who)
        assert sorted(index for index, _, _ in rows) == list(range(count))
        assert {total for _, total, _ in rows} == {count}
        assert sum(seen for _, _, seen in rows) == 40

    def test_instances_that_share_a_process_keep_their_own_index(self) -> None:
        # Three root instances under a budget of two processes: a layout packs two of them into one.
        graph = WorkflowGraph()
        source, tap = p.Indexed(4, numprocesses=3), p.Pass()
        graph.connect(source, "output", tap, "input")
        result = self.run(graph, 3, processes=2)
        assert_same_items(result.output(tap.id), [(index, i) for index in range(3) for i in range(4)])

    def _instances_of(self, graph: WorkflowGraph, pe: Any) -> int:
        return build_plan(graph, processes=self.processes).nodes[pe.id].instances

    # -- input ----------------------------------------------------------------

    def test_input_lists_from_d(self) -> None:
        graph = WorkflowGraph()
        echo, last = p.Echo(), p.Pass()
        graph.connect(echo, "output", last, "input")
        result = self.run(graph, {"Echo": [{"input": 1}, {"input": 2}, 3]})
        assert_same_items(result.output(last.id), [2, 4, 6])

    def test_empty_stream_still_ends_every_pe(self) -> None:
        graph = WorkflowGraph()
        source, life, total = p.Numbers(10), p.Lifecycle(), p.Summary(grouping="global")
        graph.connect(source, "output", life, "input")
        graph.connect(source, "output", total, "input")
        result = self.run(graph, 0)
        assert result.output(life.id) == [("lifecycle", 1, 0)] * self._instances_of(graph, life)
        assert [(count, value) for count, value, _ in result.output(total.id)] == [(0, 0)]

    # -- data -----------------------------------------------------------------

    def test_one_megabyte_numpy_items(self) -> None:
        pytest.importorskip("numpy")
        graph = WorkflowGraph()
        source, double, total = p.Arrays(count=6, size=131072), p.Multiply(2), p.Summary(grouping="global")
        graph.connect(source, "output", double, "input")
        graph.connect(double, "output", total, "input")
        result = self.run(graph)
        ((count, value, _),) = result.output(total.id)
        assert (count, value) == (6, float(sum(2 * i * 131072 for i in range(6))))

    def test_a_buffer_refilled_for_every_write_gives_each_item_as_written(self) -> None:
        pytest.importorskip("numpy")
        graph = WorkflowGraph()
        source, total = p.Arrays(count=8, size=32768, refill=True), p.Summary(grouping="global")
        graph.connect(source, "output", total, "input")
        ((count, value, _),) = self.run(graph).output(total.id)
        assert (count, value) == (8, float(sum(i * 32768 for i in range(8))))

    def test_arrays_written_in_many_items_arrive_whole_in_each(self) -> None:
        pytest.importorskip("numpy")
        graph = WorkflowGraph()
        source, sums = p.Pairs(stations=8, size=32768), p.PairSums(numprocesses=2)
        graph.connect(source, "output", sums, "input")
        pairs = [(a, b) for a in range(8) for b in range(a + 1, 8)]
        assert_same_items(self.run(graph).output(sums.id), [(a, b, float((a + b) * 32768)) for a, b in pairs])

    def test_arrays_received_and_written_again_arrive_as_they_were_at_each_write(self) -> None:
        pytest.importorskip("numpy")
        graph = WorkflowGraph()
        source, rewrite, ends = p.Arrays(count=48, size=32768), p.Rewrites(), p.Ends(numprocesses=2)
        graph.connect(source, "output", rewrite, "input")
        graph.connect(rewrite, "output", ends, "input")
        expected, last = [], None
        for i in range(48):  # what Rewrites writes: each array twice, odd ones changed, the one before again
            value = float(i)
            expected += [value, value]
            if i % 2:
                value += 1000
                expected.append(value)
            if last is not None:
                expected.append(last)
            last = value
        assert_same_items(self.run(graph).output(ends.id), [(value, value) for value in expected])

    def test_a_long_stream(self) -> None:
        graph = WorkflowGraph()
        source, add, total = p.Numbers(100_000), p.Add(1), p.Summary(grouping="global")
        graph.connect(source, "output", add, "input")
        graph.connect(add, "output", total, "input")
        ((count, value, _),) = self.run(graph).output(total.id)
        assert (count, value) == (100_000, sum(range(1, 100_001)))

    def test_unconnected_outputs_are_collected(self) -> None:
        graph = WorkflowGraph()
        source, two, after = p.Numbers(5), p.TwoOutputs(), p.Add(1)
        graph.connect(source, "output", two, "input")
        graph.connect(two, "kept", after, "input")
        result = self.run(graph)
        assert_same_items(result.output(two.id, "extra"), [-i for i in range(5)])
        assert_same_items(result.output(after.id), [i + 1 for i in range(5)])
        assert "kept" not in result.outputs.get(two.id, {})

    # -- plugins and processes -------------------------------------------------

    def test_a_run_plugin_observes_every_instance_and_its_reports_reach_the_driver(self) -> None:
        graph = WorkflowGraph()
        source, add, spread, total = p.Numbers(40), p.Add(1), p.Tagged(numprocesses=3), p.Summary(grouping="global")
        graph.connect(source, "output", add, "input")
        graph.connect(add, "output", spread, "input")
        graph.connect(add, "output", total, "input")
        watch = InstanceWatch(trace=1.0)
        result = self.run(graph, plugins=[watch])
        assert watch.totals("reads") == result.counts  # every PE, every item, once
        reported = [(report.pe_id, report.index) for report in watch.reports]
        assert len(reported) == len(set(reported)), "an instance reported its end twice"
        plan = build_plan(graph, processes=self.processes)
        for pe in (source, total):  # never pooled: exactly the planned instances
            assert {i for pe_id, i in reported if pe_id == pe.id} == set(range(plan.nodes[pe.id].instances))
        assert watch.totals("writes")[spread.id] == len(result.output(spread.id)) == 40
        assert all(report.items_written == sum(report.writes.values()) for report in watch.reports)
        sent: Counter[str] = Counter()
        for report in watch.reports:
            sent.update(report.sent)
        assert sent == {pe.id: result.counts[pe.id] for pe in (add, spread, total)}  # the matrix adds up to the reads

    def test_observers_see_each_group_key_go_to_the_instance_that_counts_it(self) -> None:
        graph = WorkflowGraph()
        words = ["noise"] * 30 + ["quake"] * 12 + ["tremor"] * 5
        source, pair, counter = p.Words(words), p.Pair(), p.KeyCounter(grouping=[0], numprocesses=3)
        graph.connect(source, "output", pair, "input")
        graph.connect(pair, "output", counter, "input")
        watch = InstanceWatch()
        result = self.run(graph, plugins=[watch])
        seen: Counter[tuple[str, int, Any]] = Counter()
        for report in watch.reports:
            seen.update(report.keys)
        assert {key: count for (_, _, key), count in seen.items()} == Counter(words)
        counted_by = {key: token for key, _, token in result.output(counter.id)}
        tokens: dict[int, str] = {}  # each key was observed going to one instance, the one whose token counted it
        for pe_id, index, key in seen:
            assert pe_id == counter.id
            assert tokens.setdefault(index, counted_by[key]) == counted_by[key]

    def test_fewer_processes_than_pes_give_the_same_results_in_no_more_processes(self) -> None:
        graph = WorkflowGraph()
        source, tap = p.Numbers(10), p.Pass()
        where = [p.WhereAmI() for _ in range(5)]
        add, double, last = p.Add(1), p.Multiply(2), p.WhereAmI()
        for sink in [tap, *where, add]:
            graph.connect(source, "output", sink, "input")
        graph.connect(add, "output", double, "input")
        graph.connect(double, "output", last, "input")
        result = self.run(graph, processes=3)
        assert_same_items(result.output(tap.id), range(10))
        rows = [row for sink in [*where, last] for row in result.output(sink.id)]
        assert [seen for _, seen in rows] == [10] * 6
        assert len({pid for pid, _ in rows}) <= 3, "PEs ran in more processes than -n 3"

    def test_an_installed_plugin_observes_every_instance_of_a_d4py_run(self, tmp_path: Path) -> None:
        plugin = install_watch_plugin(tmp_path / "site")
        workflow = tmp_path / "watched.py"
        workflow.write_text(_WATCHED_WORKFLOW)
        command = [sys.executable, "-m", "d4py", "run", "-b", self.backend, str(workflow), "--json", "-i", "30"]
        command += [f"-o{option}" for option in self.options]
        command += ["-n", str(self.processes)] if self.processes else []
        paths = [str(plugin), os.environ.get("PYTHONPATH", "")]
        env = {**os.environ, WATCH_FILE: str(tmp_path / "watch.jsonl"), "PYTHONPATH": os.pathsep.join(paths)}
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr
        counts = json.loads(done.stdout)["counts"]
        written = tmp_path / "watch.jsonl"
        reports = [json.loads(line) for line in (written.read_text() if written.exists() else "").splitlines()]
        reads: dict[str, int] = {}
        for report in reports:
            reads[report["pe"]] = reads.get(report["pe"], 0) + report["reads"]
        assert reads == counts and counts["Multiply1"] == 30
        assert sum(report["writes"] for report in reports if report["pe"] == "Pass2") == 30

    def test_what_pes_print_and_log_is_shown_in_order_per_instance(self, tmp_path: Path) -> None:
        workflow = tmp_path / "talking.py"
        workflow.write_text(_TALKING_WORKFLOW)
        command = [sys.executable, "-m", "d4py", "run", "-b", self.backend, str(workflow)]
        command += [f"-o{option}" for option in self.options] + ["-n", str(self.processes or 3)]
        done = subprocess.run(command, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr
        for stream, verb in ((done.stdout, "printed"), (done.stderr, "logged")):
            said = [line.split() for line in stream.splitlines() if line.startswith("talk ") or ": talk " in line]
            said = [words[-4:] for words in said if verb in words]
            assert sorted(int(words[3]) for words in said) == list(range(12)), stream
            for instance in {words[1] for words in said}:
                items = [int(words[3]) for words in said if words[1] == instance]
                assert items == sorted(items), f"instance {instance} {verb} out of order: {items}"

    # -- lineage --------------------------------------------------------------

    LINES: ClassVar[list[str]] = ["the quick brown fox", "the lazy dog", "a quick dog", "fox and dog", "the end"]

    def _word_count(self, producer: bool) -> tuple[WorkflowGraph, Any, Any, RunInput]:
        graph = WorkflowGraph()
        split, counter = p.SplitWords(), p.WordCounter(numprocesses=3)
        split.numprocesses = 2
        graph.connect(split, "output", counter, "input")
        if producer:
            lines = p.Lines(self.LINES)
            graph.connect(lines, "output", split, "input")
            return graph, lines, counter, None
        return graph, split, counter, {split: [{"input": line} for line in self.LINES]}

    def test_a_traced_run_traces_each_word_count_to_exactly_the_lines_that_contain_the_word(self) -> None:
        for producer in (False, True):
            graph, root, counter, inputs = self._word_count(producer)
            watch = LineageWatch()
            result = self.run(graph, inputs, plugins=[watch])
            counts = Counter(word for line in self.LINES for word in line.split())
            assert_same_items(result.output(counter.id), counts.items())  # items unchanged
            expected = []
            for word, total in counts.items():
                containing = [line for line in self.LINES if word in line.split()]
                found = [repr(line) if producer else repr({"input": line}) for line in containing]
                expected.append((counter.id, repr((word, total)), sorted((root.id, item) for item in found)))
            assert watch.explain() == sorted(expected)

    def test_lineage_is_the_same_as_on_simple_and_postprocess_derives_from_everything_read(self) -> None:
        graph = WorkflowGraph()
        source, add, total = p.Numbers(12), p.Add(1), p.Total(grouping="global")
        every, tap = p.Total(grouping="all", numprocesses=2), p.Pass()
        add.numprocesses = tap.numprocesses = 3
        graph.connect(source, "output", add, "input")
        graph.connect(add, "output", total, "input")
        graph.connect(add, "output", every, "input")
        graph.connect(source, "output", tap, "input")
        here, there = LineageWatch(), LineageWatch()
        run_here(graph, backend="simple", processes=self.processes, plugins=[here])
        self.run(graph, plugins=[there])
        assert there.explain() == here.explain()
        (summary,) = [row for row in there.explain() if row[0] == total.id]
        assert summary[2] == sorted((source.id, repr(i)) for i in range(12))  # its one item: from every number

    def test_sampled_lineage_keeps_the_same_chains_whole_as_on_simple(self) -> None:
        graph, _, counter, inputs = self._word_count(producer=False)
        here, there = LineageWatch(share=0.5), LineageWatch(share=0.5)
        run_here(graph, inputs, backend="simple", processes=self.processes, plugins=[here])
        result = self.run(graph, inputs, plugins=[there])
        assert len(result.output(counter.id)) == len({word for line in self.LINES for word in line.split()})
        outputs = there.explain()
        assert 0 < len(outputs) < len(result.output(counter.id)), "a share of 0.5 kept all outputs or none"
        for _, _, (_, _, parents, _) in there.records.values():  # kept: a root, or from a kept item
            assert not parents or any(parent in there.records for parent in parents), "a kept chain was cut"
        assert outputs == here.explain()

    def test_a_failed_call_is_recorded_with_the_input_it_failed_on(self) -> None:
        graph = WorkflowGraph()
        source, faulty = p.Numbers(20), p.Fails(bad=7)
        graph.connect(source, "output", faulty, "input")
        watch = LineageWatch()
        with pytest.raises(PEFailure):
            self.run(graph, plugins=[watch])
        assert [(pe_id, inputs) for pe_id, _, (_, inputs) in watch.failed] == [(faulty.id, {"input": 7})]
        (_, _, ((parent,), _)) = watch.failed[0]
        plan = build_plan(graph, processes=self.processes)
        assert writer(plan, parent)[0] == source.id  # an item the source wrote (its record may not have arrived)

    # -- failure --------------------------------------------------------------

    def test_a_raising_pe_fails_the_run_naming_pe_and_item(self) -> None:
        graph = WorkflowGraph()
        source, faulty, after = p.Numbers(50), p.Fails(bad=7), p.Pass()
        graph.connect(source, "output", faulty, "input")
        graph.connect(faulty, "output", after, "input")
        with pytest.raises(PEFailure) as caught:
            self.run(graph)
        assert caught.value.pe_id == faulty.id
        assert "7" in (caught.value.item_text or "")
        assert "cannot handle 7" in caught.value.traceback_text
