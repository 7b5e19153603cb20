"""The plugin manager and the backend registry built from it."""

from __future__ import annotations

import importlib
import inspect
import os
from collections.abc import Collection
from functools import cache
from typing import Any, cast

import pluggy

from d4py import hookspecs
from d4py.__about__ import __version__
from d4py._exceptions import BackendNotFound, BackendUnavailable, PluginError
from d4py.backend import Backend
from d4py.entrypoints import EntryPoint, entry_points

__all__ = [
    "BUILTIN_PLUGINS",
    "FIRST_PARTY_BACKENDS",
    "PluginManager",
    "backend_registry",
    "check_available",
    "get_backend",
    "get_plugin_manager",
    "plugin_versions",
]

# Built-in plugins take the same road as external ones: the d4py_backends hook. Name -> module.
BUILTIN_PLUGINS = {"simple": "d4py.backends.simple"}
# The project's own backends that are packages of their own: name -> what to install.
FIRST_PARTY_BACKENDS = {"multi": "d4py-multi", "mpi": "'d4py-mpi[mpich]'", "spark": "d4py-spark", "storm": "d4py-storm"}
DISABLE_AUTOLOAD = "D4PY_DISABLE_PLUGIN_AUTOLOAD"


class PluginManager(pluggy.PluginManager):
    """pluggy's manager for the ``d4py`` hooks, remembering which entry point each plugin came from."""

    def __init__(self) -> None:
        super().__init__("d4py")
        self.add_hookspecs(hookspecs)
        self.origins: dict[str, EntryPoint] = {}

    def load_entry_points(self, names: Collection[str] | None = None) -> None:
        """Register the plugins of the ``d4py`` entry-point group (only ``names``, if given)."""
        for entry in entry_points("d4py"):
            if (names is not None and entry.name not in names) or self.has_plugin(entry.name):
                continue
            try:
                plugin = entry.load()
            except Exception as error:  # name the culprit: one broken plugin must not look like d4py's fault
                raise PluginError(
                    f"the d4py plugin {entry.name!r} from {entry.owner} failed to load: {type(error).__name__}: {error}"
                ) from error
            self.register(plugin, name=entry.name)
            self.origins[entry.name] = entry


def make_plugin_manager(autoload: bool | None = None) -> PluginManager:
    """Build a fresh plugin manager: built-ins, then entry points of group ``d4py``.

    Set ``D4PY_DISABLE_PLUGIN_AUTOLOAD`` to skip entry points (built-ins stay).
    """
    manager = PluginManager()
    for name, module_name in BUILTIN_PLUGINS.items():
        manager.register(importlib.import_module(module_name), name=name)
    if autoload is None:
        autoload = not os.environ.get(DISABLE_AUTOLOAD)
    if autoload:
        manager.load_entry_points()
    manager.check_pending()
    return manager


@cache
def get_plugin_manager() -> PluginManager:
    """The process-wide plugin manager, built on first use."""
    return make_plugin_manager()


def _distribution(manager: PluginManager, plugin: object) -> str:
    name = str(manager.get_name(plugin))
    if name in manager.origins:
        return manager.origins[name].owner
    return "d4py-core (built in)" if name in BUILTIN_PLUGINS else name


def backend_registry(manager: PluginManager | None = None) -> dict[str, type[Backend]]:
    """Map each backend name to its class, rejecting missing or duplicate names."""
    manager = manager or get_plugin_manager()
    registry: dict[str, type[Backend]] = {}
    owners: dict[str, str] = {}
    for impl in manager.hook.d4py_backends.get_hookimpls():
        owner = _distribution(manager, impl.plugin)
        classes = cast("list[Any]", impl.function() or [])
        for cls in classes:
            name = getattr(cls, "name", "")
            if not isinstance(cls, type) or not issubclass(cls, Backend) or not name:
                raise PluginError(f"{owner} provides {cls!r}, which is not a d4py Backend with a name")
            if name in registry:
                raise PluginError(f"backend {name!r} is provided twice: by {owners[name]} and by {owner}")
            registry[name], owners[name] = cls, owner
    return registry


def get_backend(name: str, manager: PluginManager | None = None, available: bool = True) -> type[Backend]:
    """Return the backend class called ``name``; with ``available``, one that can run here with default options."""
    registry = backend_registry(manager)
    try:
        cls = registry[name]
    except KeyError:
        valid = ", ".join(sorted(registry))
        if name in FIRST_PARTY_BACKENDS:
            raise BackendNotFound(
                f"backend {name!r} is not installed: pip install {FIRST_PARTY_BACKENDS[name]} "
                f"(installed backends: {valid})"
            ) from None
        raise BackendNotFound(f"unknown backend {name!r}; installed backends: {valid}") from None
    if available:
        check_available(cls)
    return cls


def check_available(backend: type[Backend], options: Any = None) -> None:
    """Raise BackendUnavailable, saying how to fix it, if ``backend`` cannot run here with ``options``."""
    # Backends written before unavailable_reason took the options still declare it without them.
    takes_options = bool(inspect.signature(backend.unavailable_reason).parameters)
    problem = backend.unavailable_reason(options) if takes_options else backend.unavailable_reason()
    if problem:
        raise BackendUnavailable(f"backend {backend.name!r} cannot run here: {problem}")


def plugin_versions(manager: PluginManager | None = None) -> list[tuple[str, str]]:
    """List (plugin name, distribution and version) for every registered plugin."""
    manager = manager or get_plugin_manager()
    rows = [(str(manager.get_name(p)), _distribution(manager, p)) for p in manager.get_plugins()]
    core = f"d4py-core {__version__}"
    return sorted((name, core if "built in" in dist else dist) for name, dist in rows)
