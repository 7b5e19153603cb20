"""The d4py plugin contract: every hook a plugin may implement.

Plugins are modules or objects registered under the entry-point group ``d4py``,
or registered for one run (``d4py.run(..., plugins=[...])``). Hooks fire per
run or per PE instance, never per item. ``d4py_run_*`` and
``d4py_observer_report`` fire in the driving process; ``d4py_wrap_process``
and ``d4py_observe`` in the process that runs the instance, where the run's
plugins are re-created (a plugin registered for the run travels there
pickled). ``d4py_cli_run_*`` fire in the ``d4py run`` command only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import argparse

    from d4py.backend import Backend, RunResult
    from d4py.observe import Observer
    from d4py.pe import GenericPE
    from d4py.plan import Plan
    from d4py.runhooks import RunHooks
    from d4py.runtime import InstanceInfo, Wrapper

hookspec = pluggy.HookspecMarker("d4py")
hookimpl = pluggy.HookimplMarker("d4py")


@hookspec
def d4py_backends() -> list[type[Backend]]:
    """Return the backend classes this plugin provides.

    Called once when the registry is built. Each class needs a unique ``name``;
    core rejects duplicates, naming both distributions.
    """


@hookspec
def d4py_run_start(plan: Plan, backend: Backend, run: RunHooks) -> None:
    """Called once in the driving process after planning, before any PE starts.

    ``run.live_counts()`` gives the items processed so far per PE, for the run's duration.
    """


@hookspec
def d4py_trace(plan: Plan) -> float | None:
    """Return the share of lineage chains to trace in this run (1.0: every item), or None for no tracing.

    Called once in the driving process after planning, before ``d4py_run_start``.
    The run traces the largest share any plugin asks for: every item written
    then carries an id, and observers that want items receive lineage records
    (see :mod:`d4py.lineage`). A backend that cannot carry ids refuses such a
    run before it starts.
    """


@hookspec
def d4py_run_end(plan: Plan, backend: Backend, result: RunResult | None, error: BaseException | None) -> None:
    """Called once in the driving process when a run ends, with its result or its error."""


@hookspec
def d4py_run_progress(counts: dict[str, int]) -> None:
    """Called in the driving process, a few times a second at most, with items processed so far per PE.

    Fired by backends whose instances run in other processes and report
    while they run (``multi``); for instances in the driving process, read
    ``run.live_counts()`` instead.
    """


@hookspec
def d4py_wrap_process(pe: GenericPE, info: InstanceInfo) -> Wrapper | None:
    """Return a wrapper for one PE instance's ``process``, or None.

    Called once per instance, in the process that runs it, before
    ``preprocess``. The wrapper takes the ``process(inputs)`` callable and
    returns one with the same signature; it is what runs per item.
    """


@hookspec
def d4py_observe(pe: GenericPE, info: InstanceInfo) -> Observer | None:
    """Return an observer of one PE instance, or None.

    Called once per instance, in the process that runs it, before
    ``preprocess``. The observer receives the instance's activity in batches
    (see :mod:`d4py.observe`); what its ``report`` returns reaches
    ``d4py_observer_report`` in the driving process.
    """


@hookspec
def d4py_observer_report(info: InstanceInfo, report: Any, final: bool) -> None:
    """Called in the driving process with one report of an instance's observer.

    Reports of one instance arrive in the order they were made; ``final`` is
    true for the last, made after ``postprocess``. Reports of every plugin
    arrive here: keep those of your own observers (by their type).
    """


@hookspec
def d4py_cli_run_arguments(parser: argparse.ArgumentParser) -> None:
    """Add options of your own to the parser of the ``d4py run`` command.

    Called when ``d4py run`` builds its parser, and for no other command.
    Name long options after your package (``--no-monitor``): argparse
    refuses an option two plugins add, and core names the second plugin.
    """


@hookspec
def d4py_cli_run_parsed(args: argparse.Namespace) -> None:
    """Called once by ``d4py run`` with its parsed arguments, before it loads and runs the workflow.

    Read your options here; ``args.workflow`` and ``args.attr`` name the workflow as the user typed it.
    """
