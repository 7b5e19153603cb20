"""Registers d4py-monitor: an observer on every instance, and a record of every run, unless turned off.

Plugin discovery imports this module in every d4py process and MPI rank, so
it imports nothing of its own at module level: the observer loads where an
instance runs, the recorder (and sqlite3) in the driving process of a run.
The run is saved as it starts, while it runs and when it ends, from a thread
(:mod:`d4py_monitor.publisher`); recording never fails or stalls a run:
whatever goes wrong in it is one warning. A run's provenance, when asked
for (:mod:`d4py_monitor.prov`), is saved beside its final record.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import TYPE_CHECKING, Any

from d4py import hookimpl

if TYPE_CHECKING:
    import argparse

    from d4py import Backend, GenericPE, RunResult
    from d4py.observe import Observer
    from d4py.plan import Plan
    from d4py.runhooks import RunHooks
    from d4py.runtime import InstanceInfo
    from d4py_monitor.prov.collect import LineageCollector
    from d4py_monitor.recorder import Recorder

__all__ = ["SWITCH", "enabled", "expect_lineage"]

SWITCH = "D4PY_MONITOR"  # "off" (or 0, false, no) records nothing; --no-monitor sets it for d4py run
# Set (to another rank than 0) in the worker ranks of an MPI job, which run d4py run too but drive nothing.
RANK_VARIABLES = ("PMI_RANK", "OMPI_COMM_WORLD_RANK", "PMIX_RANK")

logger = logging.getLogger("d4py_monitor")
_recording: list[Recorder] = []  # this process's runs in progress, the innermost last
_command: dict[str, str | None] = {}  # from d4py run: the workflow's source and attr, --monitor, --monitor-store
_lineage: list[tuple[Plan, LineageCollector]] = []  # runs about to start whose provenance is kept


def enabled() -> bool:
    """Whether runs are recorded and instances observed in this process."""
    return os.environ.get(SWITCH, "").strip().lower() not in ("off", "0", "false", "no")


@hookimpl
def d4py_cli_run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--no-monitor", action="store_true", help="Do not record this run (d4py-monitor; d4py runs lists the others)."
    )
    parser.add_argument(
        "--monitor",
        metavar="URL",
        help="Send this run's records to the collector at URL, tcp://HOST:PORT (d4py monitor collect), "
        "instead of the local store; default $D4PY_MONITOR_URL.",
    )
    parser.add_argument(
        "--monitor-store",
        metavar="URL",
        help="Record this run in the store at URL, mongodb://HOST/DATABASE or sqlite:///PATH; "
        "default $D4PY_MONITOR_STORE, else SQLite in $D4PY_HOME.",
    )
    from d4py_monitor.prov.options import add_run_arguments

    add_run_arguments(parser)


@hookimpl
def d4py_cli_run_parsed(args: argparse.Namespace) -> None:
    from d4py_monitor.prov.options import provenance_from

    provenance = provenance_from(args)
    if provenance is not None:  # registered for the run like a plugin given to d4py.run: it travels to workers
        from d4py.plugins import get_plugin_manager

        get_plugin_manager().register(provenance, name="d4py-monitor provenance")
    if args.no_monitor:
        os.environ[SWITCH] = "off"  # inherited by the processes the run starts: they attach no observer either
    elif args.monitor is not None and args.monitor_store is not None:
        from d4py import UsageError

        raise UsageError("give --monitor (a collector keeps the records in its store) or --monitor-store, not both")
    elif args.monitor is not None:
        from d4py_monitor.wire import check_address, monitor_key

        check_address(args.monitor, "--monitor")
        monitor_key()
    elif args.monitor_store is not None:
        from d4py_monitor.store import check_store_url

        check_store_url(args.monitor_store, "--monitor-store")
    _command.update(source=args.workflow, attr=args.attr, monitor=args.monitor, store=args.monitor_store)


def expect_lineage(plan: Plan, collector: LineageCollector) -> None:
    """Save what ``collector`` gathers of the run of ``plan`` beside its record (``d4py_trace`` of Provenance).

    Provenance is kept in the run's store: a run that is not recorded, or
    whose records go to a collector, is refused (UsageError).
    """
    from d4py import UsageError

    if not enabled():
        raise UsageError(f"provenance is kept with the run's record, and {SWITCH}=off records none: unset it")
    from d4py_monitor.publisher import COLLECTOR_VARIABLE

    if _command.get("monitor") or os.environ.get(COLLECTOR_VARIABLE):
        raise UsageError(
            f"provenance is kept in a run store, not sent to a collector (--monitor, ${COLLECTOR_VARIABLE}): "
            "give --monitor-store URL instead"
        )
    _lineage[:] = [(p, c) for p, c in _lineage if p is not plan] + [(plan, collector)]


@hookimpl
def d4py_run_start(plan: Plan, backend: Backend, run: RunHooks) -> None:
    lineage = next((c for p, c in _lineage if p is plan), None)
    _lineage[:] = [(p, c) for p, c in _lineage if p is not plan]
    if not enabled():
        return
    try:
        from d4py_monitor.recorder import Recorder

        source, attr = _command.get("source"), _command.get("attr")
        recorder = Recorder(plan, backend, source, attr, _command.get("monitor"), _command.get("store"))
        recorder.lineage = lineage
        if _driving():
            recorder.publisher.start()
        _recording.append(recorder)
    except Exception as error:
        logger.warning("d4py-monitor: this run will not be recorded: %s: %s", type(error).__name__, error)


@hookimpl
def d4py_observe(pe: GenericPE, info: InstanceInfo) -> Observer | None:
    if not enabled():
        return None
    from d4py_monitor.observer import InstanceObserver

    observer = InstanceObserver(info)
    if _recording:  # the instance runs in the driving process: its last reports can be taken at a failure
        _recording[-1].observers.append(observer)
    return observer


@hookimpl
def d4py_observer_report(info: InstanceInfo, report: Any, final: bool) -> None:
    if not _recording:
        return
    from d4py_monitor.observer import InstanceReport

    if isinstance(report, InstanceReport):
        recorder = _recording[-1]
        recorder.add(report)
        recorder.publisher.changed()


@hookimpl
def d4py_run_end(plan: Plan, backend: Backend, result: RunResult | None, error: BaseException | None) -> None:
    recorder = next((r for r in reversed(_recording) if r.plan is plan), None)
    if recorder is None:
        return
    _recording.remove(recorder)
    if isinstance(error, SystemExit):
        return  # how the worker ranks of a job started with mpiexec leave run(): rank 0 records the run
    try:
        if error is not None:
            recorder.flush()
        record = recorder.finish(result, error)
        recorder.publisher.finish(record)
    except Exception as problem:
        logger.warning("d4py-monitor: this run was not recorded: %s: %s", type(problem).__name__, problem)
        return
    if recorder.lineage is not None and recorder.publisher.recorded:
        from d4py_monitor.prov.saving import save_lineage

        store, local = _command.get("store"), recorder.publisher.fell_back
        saved = save_lineage(recorder.lineage, record.id, result, error, store, local)
        if saved and _command:  # from d4py run: say which run to ask about (``last`` may be another's)
            print(f"d4py-monitor: provenance kept: d4py prov explain {record.id}", file=sys.stderr)


def _driving() -> bool:
    """Whether this process may drive a run: not a worker rank of an MPI job (they leave run() unrecorded)."""
    return all(os.environ.get(variable, "0") == "0" for variable in RANK_VARIABLES)
