"""The ``storm`` backend: build the plan's topology, submit it, collect what it sends back, kill it.

The driver listens for the collector bolt, builds the topology folder
(:mod:`d4py_storm.build`), submits it with the ``storm`` command (or, with
``-o emulate=true``, runs it here under :mod:`d4py_storm.emulator`), hands
every batch the collector relays to core's RunCollector until every task has
said it is done, and kills the topology, whether the run ended or failed.
"""

from __future__ import annotations

import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from d4py import Backend, BackendUnavailable, RunFailed, RunResult, UsageError
from d4py.backend import BatchOptions
from d4py.plan import Plan

if TYPE_CHECKING:
    from d4py.runhooks import RunHooks

__all__ = ["StormBackend", "StormOptions"]

_ADDRESS = re.compile(r"^[^:\s]+(:\d{1,5})?$")


@dataclass(frozen=True)
class StormOptions(BatchOptions):
    """Options of the storm backend (``-o key=value``), after the batch options every backend shares."""

    nimbus: str | None = None  # Nimbus host or host:port (default: the storm command's own configuration)
    storm: str | None = None  # the storm command (default: $STORM_HOME/bin/storm, then storm on PATH)
    flux_version: str | None = None  # the Flux artifacts' version (default: the cluster's, from `storm version`)
    python: str = "python3"  # the Python that runs the components on Storm's supervisors
    driver: str | None = None  # host[:port] at which Storm's workers reach this process (default: its name, any port)
    name: str | None = None  # the topology's name (default: d4py-WORKFLOW-RANDOM)
    workers: int = 1  # topology.workers
    max_spout_pending: int = 64  # topology.max.spout.pending: batches in flight per spout task
    emulate: bool = False  # no Storm: run the topology here, d4py playing Storm's side of the multilang protocol

    def __post_init__(self) -> None:
        for flag in ("workers", "max_spout_pending"):
            if getattr(self, flag) < 1:
                raise ValueError(f"-o {flag}={getattr(self, flag)}: use 1 or more")
        for flag in ("nimbus", "driver"):
            value = getattr(self, flag)
            if value is not None and not _ADDRESS.match(value):
                raise ValueError(f"-o {flag}={value}: give a host or host:port")
        if self.name is not None and not re.fullmatch(r"[A-Za-z0-9_-]+", self.name):
            raise ValueError(f"-o name={self.name}: a topology name of letters, digits, '-' and '_'")


class Launcher(Protocol):
    """Where the topology runs: a Storm cluster, or the emulator."""

    def start(self) -> None: ...

    def problem(self) -> str | None: ...

    def kill(self) -> None: ...


class StormBackend(Backend):
    """Apache Storm: one shell spout or bolt per PE, d4py's routing through direct streams."""

    name = "storm"
    description = "Apache Storm through Flux and multilang components; -o emulate=true runs it here without Storm"
    Options = StormOptions
    live_counts = False  # tasks report their counts when they end
    runs_partition_cycles = False  # spouts take no input, and shell bolts hold few tuples: partitions flow one way
    fuses_chains = False  # one Storm component per PE, placed by Storm

    @classmethod
    def unavailable_reason(cls, options: StormOptions | None = None) -> str | None:
        """A storm command must be found (or given with -o storm=PATH), unless the run is emulated."""
        if options is not None and options.emulate:
            return None
        from d4py_storm.submit import find_storm

        try:
            find_storm(options.storm if options is not None else None)
        except BackendUnavailable as error:
            return str(error)
        return None

    def check(self, plan: Plan) -> None:
        """Refuse a partition that holds a root and is fed from outside: a spout takes no tuples."""
        for members in plan.partitions:
            roots = [pe_id for pe_id in members if pe_id not in plan.incoming]
            fed = [e.target for pe_id in members for e in plan.incoming.get(pe_id, []) if e.source not in members]
            if roots and fed:
                raise UsageError(
                    f"backend 'storm' cannot run partition [{', '.join(members)}]: it holds root '{roots[0]}', so it "
                    f"is a spout, yet PE '{fed[0]}' in it is fed from outside; change graph.partitions"
                )

    def run(self, plan: Plan, hooks: RunHooks) -> RunResult:
        from d4py.hosting import RunCollector
        from d4py_storm.build import build_topology
        from d4py_storm.codec import new_key
        from d4py_storm.topology import task_layout

        started = time.perf_counter()
        options: StormOptions = self.options
        key = new_key()
        link = self._listen(key)
        try:
            import tempfile  # here: it imports shutil and the compression modules

            with tempfile.TemporaryDirectory(prefix="d4py-storm-") as folder:
                built = build_topology(
                    plan,
                    hooks,
                    Path(folder),
                    name=options.name or _name_hint(plan),
                    python=sys.executable if options.emulate else options.python,
                    batch=BatchOptions(options.batch_items, options.batch_bytes, options.flush_ms),
                    config=topology_config(options),
                    driver=link.address,
                    keep_paths=options.emulate,
                    key=key,
                )
                launcher = self._launcher(built)
                collector = RunCollector(plan, hooks, range(len(task_layout(plan))))
                tasks_started: set[int] = set()
                try:
                    launcher.start()
                    while not collector.done:
                        for batch in link.receive(0.5):
                            for message in collector.handle(batch):
                                _check_start(message, tasks_started)
                        problem = None if collector.done else launcher.problem()
                        if problem:
                            raise RunFailed(f"storm topology {built.name} failed: {problem}")
                finally:
                    launcher.kill()
        finally:
            link.close()
        return collector.result(self.name, started)

    def _listen(self, key: bytes) -> Any:
        from d4py_storm.driver import DriverLink

        options: StormOptions = self.options
        if options.emulate:
            return DriverLink(key, "127.0.0.1")
        import socket  # here, not at import: every d4py process imports this module

        host, _, port = (options.driver or socket.getfqdn()).partition(":")
        return DriverLink(key, "", int(port or 0), advertise=host)

    def _launcher(self, built: Any) -> Launcher:
        options: StormOptions = self.options
        if options.emulate:
            from d4py_storm.emulator import Emulator

            return Emulator(built.topology)
        from d4py_storm.submit import StormCluster, find_storm

        storm = find_storm(options.storm)
        return StormCluster(storm, built.jar, built.topology, built.name, options.nimbus, options.flux_version)


def _check_start(message: tuple[Any, ...], started: set[int]) -> None:
    """Fail the run when a task starts a second time: Storm restarted it, and its PE's state is lost."""
    from d4py_storm.topology import STARTED

    if message[0] == STARTED:
        if message[1] in started:
            raise RunFailed(
                f"task {message[3]} of component {message[2]!r} started again: Storm restarted its worker, "
                "and the state of its PE instance and the tuples it held are lost (d4py does not replay)"
            )
        started.add(message[1])


def topology_config(options: StormOptions) -> dict[str, Any]:
    """The Flux ``config`` section: Storm settings the options set."""
    return {"topology.workers": options.workers, "topology.max.spout.pending": options.max_spout_pending}


def _name_hint(plan: Plan) -> str:
    from d4py.loader import WORKFLOW_FILES
    from d4py_storm.build import topology_name

    files = list(WORKFLOW_FILES.values())
    return topology_name(Path(files[-1]).stem if files else next(iter(plan.nodes)))
