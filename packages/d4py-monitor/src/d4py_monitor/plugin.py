"""Registers d4py-monitor: an observer on every instance, and a record of every run, unless turned off.

Plugin discovery imports this module in every d4py process and MPI rank, so
it imports nothing of its own at module level: the observer loads where an
instance runs, the recorder (and sqlite3) in the driving process of a run.
Recording never fails a run: whatever goes wrong in it is one warning.
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, Any

from d4py import hookimpl

if TYPE_CHECKING:
    import argparse

    from d4py import Backend, GenericPE, RunResult
    from d4py.observe import Observer
    from d4py.plan import Plan
    from d4py.runhooks import RunHooks
    from d4py.runtime import InstanceInfo
    from d4py_monitor.recorder import Recorder

__all__ = ["SWITCH", "enabled"]

SWITCH = "D4PY_MONITOR"  # "off" (or 0, false, no) records nothing; --no-monitor sets it for d4py run

logger = logging.getLogger("d4py_monitor")
_recording: list[Recorder] = []  # this process's runs in progress, the innermost last
_command: dict[str, str | None] = {}  # the workflow as d4py run was given it: source, attr


def enabled() -> bool:
    """Whether runs are recorded and instances observed in this process."""
    return os.environ.get(SWITCH, "").strip().lower() not in ("off", "0", "false", "no")


@hookimpl
def d4py_cli_run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--no-monitor", action="store_true", help="Do not record this run (d4py-monitor; d4py runs lists the others)."
    )


@hookimpl
def d4py_cli_run_parsed(args: argparse.Namespace) -> None:
    if args.no_monitor:
        os.environ[SWITCH] = "off"  # inherited by the processes the run starts: they attach no observer either
    _command.update(source=args.workflow, attr=args.attr)


@hookimpl
def d4py_run_start(plan: Plan, backend: Backend, run: RunHooks) -> None:
    if not enabled():
        return
    try:
        from d4py_monitor.recorder import Recorder

        _recording.append(Recorder(plan, backend, _command.get("source"), _command.get("attr")))
    except Exception as error:
        logger.warning("d4py-monitor: this run will not be recorded: %s: %s", type(error).__name__, error)


@hookimpl
def d4py_observe(pe: GenericPE, info: InstanceInfo) -> Observer | None:
    if not enabled():
        return None
    from d4py_monitor.observer import InstanceObserver

    return InstanceObserver(info)


@hookimpl
def d4py_observer_report(info: InstanceInfo, report: Any, final: bool) -> None:
    if not _recording:
        return
    from d4py_monitor.observer import InstanceReport

    if isinstance(report, InstanceReport):
        _recording[-1].add(report)


@hookimpl
def d4py_run_end(plan: Plan, backend: Backend, result: RunResult | None, error: BaseException | None) -> None:
    recorder = next((r for r in reversed(_recording) if r.plan is plan), None)
    if recorder is None:
        return
    _recording.remove(recorder)
    if isinstance(error, SystemExit):
        return  # how the worker ranks of a job started with mpiexec leave run(): rank 0 records the run
    try:
        from d4py_monitor.recorder import save

        save(recorder.finish(result, error))
    except Exception as error:
        logger.warning("d4py-monitor: this run was not recorded: %s: %s", type(error).__name__, error)
