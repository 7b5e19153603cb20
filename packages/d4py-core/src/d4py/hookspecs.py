"""The d4py plugin contract: every hook a plugin may implement.

Plugins are modules or objects registered under the entry-point group ``d4py``.
Hooks fire per run or per PE instance, never per item.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from d4py.backend import Backend, RunResult
    from d4py.pe import GenericPE
    from d4py.plan import Plan
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
def d4py_run_start(plan: Plan, backend: Backend) -> None:
    """Called once in the driving process after planning, before any PE starts."""


@hookspec
def d4py_run_end(plan: Plan, backend: Backend, result: RunResult | None, error: BaseException | None) -> None:
    """Called once in the driving process when a run ends, with its result or its error."""


@hookspec
def d4py_run_progress(counts: dict[str, int]) -> None:
    """Called in the driving process, a few times a second at most, with items processed so far per PE.

    Fired by backends whose instances run in other processes (``multi``);
    in-process backends leave counting to ``d4py_wrap_process``.
    """


@hookspec
def d4py_wrap_process(pe: GenericPE, info: InstanceInfo) -> Wrapper | None:
    """Return a wrapper for one PE instance's ``process``, or None.

    Called once per instance, in the process that runs it, before
    ``preprocess``. The wrapper takes the ``process(inputs)`` callable and
    returns one with the same signature; it is what runs per item.
    """
