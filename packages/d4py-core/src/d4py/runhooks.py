"""The plugins of one run, as a backend sees them: a typed facade over the hooks, in any process.

In the driving process, :func:`d4py.run` builds a :class:`RunHooks` from the
plugin manager and hands it to ``Backend.run``. A backend that runs
instances in other processes sends :meth:`RunHooks.for_workers` along with
the plan; each worker re-creates the run's plugins from it
(:meth:`PluginSet.hooks`): the entry-point plugins the driver loaded, and the
plugins registered for the run that act on instances, pickled. Plugins that
only act in the driver (``d4py_run_*`` hooks) stay there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from d4py._exceptions import PluginError

if TYPE_CHECKING:
    from d4py.backend import Backend, RunResult
    from d4py.observe import Observer
    from d4py.pe import GenericPE
    from d4py.plan import Plan
    from d4py.plugins import PluginManager
    from d4py.runtime import InstanceInfo, Wrapper

__all__ = ["INSTANCE_HOOKS", "PluginSet", "RunHooks"]

#: Hooks fired in the process that runs an instance; a run plugin implementing one goes to every worker.
INSTANCE_HOOKS = frozenset({"d4py_wrap_process", "d4py_observe"})


class RunHooks:
    """What a backend tells the run's plugins, and asks of them."""

    def __init__(self, manager: PluginManager, entry_points: tuple[str, ...] | None = None) -> None:
        self.manager = manager
        self.entry_points = entry_points if entry_points is not None else _entry_point_names(manager)
        self._counts: Callable[[], dict[str, int]] | None = None
        self._reported: dict[str, int] = {}
        self._per_instance = bool(_callers(manager, "d4py_wrap_process") or _callers(manager, "d4py_observe"))

    # -- in the process that runs an instance --------------------------------

    def wrappers(self, pe: GenericPE, info: InstanceInfo) -> list[Wrapper]:
        """The wrappers plugins put around one instance's ``process``."""
        if not self._per_instance:
            return []
        return [w for w in self.manager.hook.d4py_wrap_process(pe=pe, info=info) if w is not None]

    def observers(self, pe: GenericPE, info: InstanceInfo) -> list[Observer]:
        """The observers plugins attach to one instance."""
        if not self._per_instance:
            return []
        return [o for o in self.manager.hook.d4py_observe(pe=pe, info=info) if o is not None]

    # -- in the driving process ----------------------------------------------

    def trace(self, plan: Plan) -> float:
        """The share of lineage chains the run's plugins want traced (0.0: none)."""
        shares = [share for share in self.manager.hook.d4py_trace(plan=plan) if share and share > 0]
        return min(1.0, max(shares, default=0.0))

    def run_start(self, plan: Plan, backend: Backend) -> None:
        self.manager.hook.d4py_run_start(plan=plan, backend=backend, run=self)

    def run_end(self, plan: Plan, backend: Backend, result: RunResult | None, error: BaseException | None) -> None:
        self.manager.hook.d4py_run_end(plan=plan, backend=backend, result=result, error=error)

    def progress(self, counts: dict[str, int]) -> None:
        """Pass items processed so far per PE, from processes elsewhere, to ``d4py_run_progress``."""
        self._reported = counts
        self.manager.hook.d4py_run_progress(counts=counts)

    def count_with(self, counts: Callable[[], dict[str, int]]) -> None:
        """Read live counts from ``counts`` (a backend whose instances run in this process)."""
        self._counts = counts

    def live_counts(self) -> dict[str, int]:
        """Items processed so far per PE, as well as this process knows."""
        return self._counts() if self._counts is not None else dict(self._reported)

    def observer_reports(self, pe_id: str, index: int, instances: int, final: bool, reports: list[Any]) -> None:
        """Pass what an instance's observers reported to ``d4py_observer_report``."""
        from d4py.runtime import InstanceInfo

        info = InstanceInfo(pe_id, index, instances)
        for report in reports:
            self.manager.hook.d4py_observer_report(info=info, report=report, final=final)

    def for_workers(self) -> PluginSet:
        """What a worker process needs to re-create this run's plugins."""
        travelling = []
        for plugin in self.manager.get_plugins():
            name = self.manager.get_name(plugin)
            if name in self.entry_points or _is_builtin(name):
                continue
            if any(caller.name in INSTANCE_HOOKS for caller in self.manager.get_hookcallers(plugin) or []):
                travelling.append((name, plugin))
        import cloudpickle

        try:
            extra = cloudpickle.dumps(travelling)
        except Exception as error:
            names = ", ".join(str(name) for name, _ in travelling)
            raise PluginError(
                f"a plugin registered for this run ({names}) cannot be sent to worker processes: "
                f"{type(error).__name__}: {error}; keep what only the driver needs out of its pickled state"
            ) from error
        return PluginSet(self.entry_points, extra)


@dataclass(frozen=True)
class PluginSet:
    """The plugins of a run, in a form a worker process can re-create them from (picklable)."""

    entry_points: tuple[str, ...]
    extra: bytes

    def hooks(self) -> RunHooks:
        """A RunHooks over a fresh manager holding the run's plugins, for this worker process."""
        import cloudpickle

        from d4py.plugins import make_plugin_manager

        manager = make_plugin_manager(autoload=False)
        manager.load_entry_points(self.entry_points)
        for name, plugin in cloudpickle.loads(self.extra):
            manager.register(plugin, name=name)
        return RunHooks(manager, self.entry_points)


def _entry_point_names(manager: PluginManager) -> tuple[str, ...]:
    return tuple(sorted(manager.origins))


def _is_builtin(name: str | None) -> bool:
    from d4py.plugins import BUILTIN_PLUGINS

    return name in BUILTIN_PLUGINS


def _callers(manager: PluginManager, hook: str) -> bool:
    return bool(getattr(manager.hook, hook).get_hookimpls())
