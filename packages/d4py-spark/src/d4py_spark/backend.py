"""The ``spark`` backend: each partition of the plan is a Spark stage, each instance a Spark partition.

Partitions run in the order items flow between them. A partition's input is
the union of what its upstream partitions sent it (fan-in), partitioned by
the target instance the shared runtime chose (so ``group_by`` uses core's
stable key digest, ``'all'`` has sent a copy to every instance and
``'global'`` everything to instance 0), and each instance runs as one Spark
task (:func:`d4py_spark.stage.run_instance`). A partition's records are
persisted, so a tee reads them twice without recomputing the upstream.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

import cloudpickle
import networkx as nx
import pluggy

from d4py import Backend, OptionError, RunResult
from d4py.backend import OutputCollector
from d4py.batching import DONE, FAILED, ITEM, OUTPUT
from d4py.plan import Plan
from d4py.worker import refuse_partition_cycles
from d4py_spark.stage import run_instance

if TYPE_CHECKING:
    from pyspark import RDD, SparkContext

__all__ = ["SparkBackend", "SparkOptions", "new_context"]


@dataclass(frozen=True)
class SparkOptions:
    """Options of the spark backend (``-o key=value``)."""

    master: str | None = None  # any Spark master URL; default local[K], K the widest partition's instances
    app_name: str = "d4py"
    conf: str = ""  # extra Spark configuration: "spark.key=value,spark.other=value"


class SparkBackend(Backend):
    """Apache Spark: partitions as stages, instances as Spark partitions, through pyspark."""

    name = "spark"
    description = "Apache Spark via pyspark; each partition a stage, each instance a Spark task"
    live_counts = False  # instances report only when they end
    Options = SparkOptions

    def check(self, plan: Plan) -> None:
        """Refuse explicit partitions that feed each other: a batch job runs them one after another."""
        refuse_partition_cycles(plan, self.name)
        _configuration(self.options.conf)  # a malformed conf is a usage error before anything starts

    def run(self, plan: Plan, hook: pluggy.HookRelay) -> RunResult:
        started = time.perf_counter()
        context, owned = _context(self.options, plan)
        try:
            records = _enact(context, plan)
        finally:
            if owned:
                context.stop()
        collector = OutputCollector(list(plan.nodes))
        counts = dict.fromkeys(plan.nodes, 0)
        for record in records:
            if record[0] == FAILED:
                raise record[2]
            if record[0] == OUTPUT:
                collector.outputs[record[1]].setdefault(record[2], []).append(record[3])
            elif record[0] == DONE:
                for pe_id, count in record[2].items():
                    counts[pe_id] += count
        return RunResult(collector.result(), counts, time.perf_counter() - started, self.name)


def _enact(context: SparkContext, plan: Plan) -> list[tuple[Any, ...]]:
    """Build one stage per partition, in the order items flow, and collect every record.

    Records come back stage by stage, so a failure upstream is met before the
    failures it may have caused downstream.
    """
    plan_bytes = cloudpickle.dumps(plan)
    paths = list(sys.path)  # so that the workflow's modules import in Spark's workers as they did here
    target_partition = {edge.index: plan.nodes[edge.target].partition for edge in plan.edges}
    stages: dict[int, RDD[Any]] = {}
    for partition in _flow_order(plan):
        instances = plan.nodes[plan.partitions[partition][0]].instances
        upstream = [stages[p] for p in _sources(plan, partition)]
        if upstream:
            sent = context.union(upstream).filter(partial(_bound_for, target_partition, partition))
            inputs = sent.map(_keyed_by_instance).partitionBy(instances, _identity)
        else:
            inputs = context.parallelize([], instances)
        task = partial(run_instance, paths, plan_bytes, partition)
        stages[partition] = inputs.mapPartitionsWithIndex(task, preservesPartitioning=False).persist()
    every = context.union([stages[p] for p in _flow_order(plan)])
    kept: list[tuple[Any, ...]] = every.filter(_kept_by_driver).collect()
    for rdd in stages.values():
        rdd.unpersist()
    return kept


def _flow_order(plan: Plan) -> list[int]:
    between = nx.DiGraph()
    between.add_nodes_from(range(len(plan.partitions)))
    between.add_edges_from(_partition_links(plan))
    return list(nx.lexicographical_topological_sort(between))


def _partition_links(plan: Plan) -> set[tuple[int, int]]:
    links = set()
    for edge in plan.edges:
        source, target = plan.nodes[edge.source].partition, plan.nodes[edge.target].partition
        if source != target:
            links.add((source, target))
    return links


def _sources(plan: Plan, partition: int) -> list[int]:
    return sorted(source for source, target in _partition_links(plan) if target == partition)


def _bound_for(target_partition: dict[int, int], partition: int, record: tuple[Any, ...]) -> bool:
    kind: int = record[0]
    return kind == ITEM and target_partition[record[1]] == partition


def _keyed_by_instance(record: tuple[Any, ...]) -> tuple[int, tuple[int, Any]]:
    _, edge, target, item = record
    return target, (edge, item)


def _identity(key: int) -> int:
    return key


def _kept_by_driver(record: tuple[Any, ...]) -> bool:
    kind: int = record[0]
    return kind != ITEM


def _configuration(conf: str) -> list[tuple[str, str]]:
    pairs = []
    for entry in filter(None, (part.strip() for part in conf.split(","))):
        key, sep, value = entry.partition("=")
        if not sep or not key:
            raise OptionError(f"-o conf={conf}: write Spark settings as key=value, separated by commas")
        pairs.append((key.strip(), value.strip()))
    return pairs


def _context(options: SparkOptions, plan: Plan) -> tuple[SparkContext, bool]:
    """The active SparkContext if there is one (a notebook's, a test session's), else a new one we own."""
    from pyspark import SparkContext

    active = SparkContext._active_spark_context
    if active is not None:
        return active, False
    widest = max(plan.nodes[members[0]].instances for members in plan.partitions)
    return new_context(options, widest), True


def new_context(options: SparkOptions, cores: int = 2) -> SparkContext:
    """A SparkContext as the backend starts one: ``options.master``, else ``local[cores]`` on loopback."""
    from pyspark import SparkConf, SparkContext

    master = options.master or f"local[{max(2, cores)}]"
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # workers run this Python, where d4py is installed
    conf = SparkConf().setAppName(options.app_name).setMaster(master)
    conf.set("spark.ui.showConsoleProgress", "false")
    if master.startswith("local"):  # a local job talks to itself only, on loopback
        conf.set("spark.driver.host", "127.0.0.1").set("spark.driver.bindAddress", "127.0.0.1")
    conf.setAll(_configuration(options.conf))
    context = SparkContext(conf=conf)
    context.setLogLevel("ERROR")
    return context
