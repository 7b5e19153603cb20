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
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from d4py import Backend, OptionError, RunResult
from d4py.hosting.messages import ITEMS
from d4py.plan import Plan
from d4py.runhooks import RunHooks

if TYPE_CHECKING:
    from pyspark import RDD, SparkContext

    from d4py.hosting import WorkerSettings

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
    runs_partition_cycles = False  # a batch job runs partitions one after another
    Options = SparkOptions

    def check(self, plan: Plan) -> None:
        """Refuse a malformed ``conf`` option before anything starts."""
        _configuration(self.options.conf)

    def run(self, plan: Plan, hooks: RunHooks) -> RunResult:
        from d4py.hosting import RunCollector, worker_settings  # here: every run imports this module

        started = time.perf_counter()
        settings = worker_settings(plan, hooks)
        context, owned = _context(self.options, plan)
        try:
            records = _interruptible(context, partial(_enact, context, plan, settings))
        finally:
            if owned:
                context.stop()
        collector = RunCollector(plan, hooks)
        for record in records:  # one by one: what a task printed shows before a failure it may explain
            for printed in collector.handle([record]):
                _show(printed)
        return collector.result(self.name, started)


def _interruptible(context: SparkContext, job: Callable[[], list[tuple[Any, ...]]]) -> list[tuple[Any, ...]]:
    """Run ``job`` on a thread of its own, so that Ctrl-C never lands inside a call to the JVM.

    Interrupted mid-call, py4j's connection breaks and every later call
    (cancelling the job, stopping the context) fails with tracebacks. Here the
    main thread only waits: Ctrl-C cancels Spark's jobs, the job's thread
    returns, and KeyboardInterrupt goes on to the caller.
    """
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["records"] = job()
        except BaseException as error:  # handed to the waiting thread
            outcome["error"] = error

    thread = threading.Thread(target=target, name="d4py-spark-job", daemon=True)
    thread.start()
    try:
        thread.join()
    except KeyboardInterrupt:
        context.setLogLevel("OFF")  # the cancelled tasks' errors are not the user's news
        context.cancelAllJobs()
        thread.join()
        raise
    if "error" in outcome:
        raise outcome["error"]
    records: list[tuple[Any, ...]] = outcome["records"]
    return records


def _enact(context: SparkContext, plan: Plan, settings: WorkerSettings) -> list[tuple[Any, ...]]:
    """Build one stage per partition, in the order items flow, and collect every record.

    Records come back stage by stage, so a failure upstream is met before the
    failures it may have caused downstream.
    """
    from d4py_spark.stage import run_instance

    target_partition = {edge.index: plan.nodes[edge.target].partition for edge in plan.edges}
    stages: dict[int, RDD[Any]] = {}
    for partition in plan.flow_order():
        instances = plan.nodes[plan.partitions[partition][0]].instances
        upstream = [stages[p] for p in _sources(plan, partition)]
        if upstream:
            sent = context.union(upstream).filter(partial(_bound_for, target_partition, partition))
            inputs = sent.map(_keyed_by_instance).partitionBy(instances, _identity)
        else:
            inputs = context.parallelize([], instances)
        task = partial(run_instance, settings, partition)
        stages[partition] = inputs.mapPartitionsWithIndex(task, preservesPartitioning=False).persist()
    every = context.union([stages[p] for p in plan.flow_order()])
    kept: list[tuple[Any, ...]] = every.filter(_kept_by_driver).collect()
    for rdd in stages.values():
        rdd.unpersist()
    return kept


def _show(record: tuple[Any, ...]) -> None:
    """Write what one task's PEs printed and logged where they would have on any other backend."""
    _, stdout, stderr = record
    sys.stdout.write(stdout)
    sys.stderr.write(stderr)


def _sources(plan: Plan, partition: int) -> list[int]:
    return sorted(source for source, target in plan.partition_links() if target == partition)


def _bound_for(target_partition: dict[int, int], partition: int, record: tuple[Any, ...]) -> bool:
    kind: int = record[0]
    return kind in ITEMS and target_partition[record[1]] == partition


def _keyed_by_instance(record: tuple[Any, ...]) -> tuple[int, tuple[int, int, Any]]:
    kind, edge, target, payload = record
    return target, (kind, edge, payload)


def _identity(key: int) -> int:
    return key


def _kept_by_driver(record: tuple[Any, ...]) -> bool:
    kind: int = record[0]
    return kind not in ITEMS


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
    return new_context(options, min(widest, plan.processes or widest)), True


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
