"""Find the graph in a workflow given as a dotted module name or a ``.py`` path."""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from d4py import _compat
from d4py._exceptions import D4pyError, WorkflowLoadError
from d4py.graph import WorkflowGraph

__all__ = ["WORKFLOW_FILES", "find_graph", "import_workflow_files", "load_module", "load_workflow"]

#: Workflow files loaded from a path in this process: module name -> file. Workers import them the same way.
WORKFLOW_FILES: dict[str, str] = {}


def load_workflow(target: str, attribute: str | None = None) -> WorkflowGraph:
    """Import ``target`` and return its graph (``attribute`` names it when needed)."""
    return find_graph(load_module(target), target, attribute)


def load_module(target: str) -> ModuleType:
    """Import a workflow module; dispel4py 1.x imports resolve to d4py's compatibility layer."""
    _compat.install()
    path = Path(target)
    try:
        if target.endswith(".py") or path.is_file():
            return _load_path(path)
        # As `python -m` would: modules in the working directory are importable.
        if "" not in sys.path and str(Path.cwd()) not in sys.path:
            sys.path.insert(0, str(Path.cwd()))
        return importlib.import_module(target)
    except WorkflowLoadError:
        raise
    except D4pyError as error:  # e.g. a wrong port in connect(): say it as it is, and where
        raise type(error)(f"{error} ({_where(error, target)})") from None
    except ModuleNotFoundError as error:
        if error.name and (target == error.name or target.startswith(error.name + ".")):
            raise WorkflowLoadError(
                f"cannot find workflow {target!r}: no such module or .py file "
                "(give a dotted module importable from here, or a path to a .py file)"
            ) from None
        raise _import_failure(target, error) from error
    except Exception as error:
        raise _import_failure(target, error) from error


def _load_path(path: Path) -> ModuleType:
    if not path.is_file():
        raise WorkflowLoadError(f"cannot find workflow file {str(path)!r}")
    # As `python file.py` would: the file's folder is importable, for its sibling modules.
    folder = str(path.resolve().parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    name = _module_name(path)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise WorkflowLoadError(f"cannot load {str(path)!r} as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # so that PEs defined in it can be pickled by parallel backends
    WORKFLOW_FILES[name] = str(path.resolve())
    spec.loader.exec_module(module)
    return module


def _module_name(path: Path) -> str:
    """The file's stem, unless that names another module (``types.py``, ``json.py``): then a name of its own."""
    stem = path.stem
    loaded = sys.modules.get(stem)
    if loaded is not None and getattr(loaded, "__file__", None) == str(path.resolve()):
        return stem
    if stem.isidentifier() and loaded is None and stem not in sys.stdlib_module_names:
        return stem
    return "d4py_workflow_" + "".join(c if c.isalnum() else "_" for c in stem)


class _WorkflowFiles:
    """Finds the workflow modules the driving process loaded from files, by the names it gave them.

    A meta path finder by its ``find_spec`` alone: ``importlib.abc`` imports ``importlib.resources``,
    ``tempfile`` and ``shutil``, a few milliseconds of every run's start-up.
    """

    def __init__(self, files: dict[str, str]) -> None:
        self.files = files

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        file = self.files.get(fullname)
        return importlib.util.spec_from_file_location(fullname, file) if file else None


def import_workflow_files(files: dict[str, str]) -> None:
    """Let this process import ``files`` (a driver's :data:`WORKFLOW_FILES`) by the same module names."""
    WORKFLOW_FILES.update(files)
    if not any(isinstance(finder, _WorkflowFiles) for finder in sys.meta_path):
        sys.meta_path.insert(0, _WorkflowFiles(WORKFLOW_FILES))


def _where(error: BaseException, target: str) -> str:
    """The last line of the workflow's own code in the traceback, as 'file line N'."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if not _is_library(f.filename)]
    if not frames:
        return f"while loading {target}"
    last = frames[-1]
    return f"at {Path(last.filename).name} line {last.lineno}"


def _is_library(filename: str) -> bool:
    return "importlib" in filename or str(Path(__file__).parent) in str(Path(filename).resolve())


def _import_failure(target: str, error: BaseException) -> WorkflowLoadError:
    tb = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    failure = WorkflowLoadError(f"importing workflow {target!r} failed: {type(error).__name__}: {error}")
    failure.traceback_text = tb  # type: ignore[attr-defined]
    return failure


def find_graph(module: ModuleType, target: str, attribute: str | None = None) -> WorkflowGraph:
    """Return the graph named ``attribute``, or the module's only top-level graph."""
    if attribute:
        try:
            value = getattr(module, attribute)
        except AttributeError:
            raise WorkflowLoadError(f"workflow {target!r} has no attribute {attribute!r}") from None
        return _as_graph(value, target, attribute)
    candidates = _top_level_graphs(module)
    if len(candidates) == 1:
        return next(iter(candidates.values()))
    if not candidates:
        raise WorkflowLoadError(f"workflow {target!r} defines no WorkflowGraph at module level; name one with -a")
    names = ", ".join(sorted(candidates))
    raise WorkflowLoadError(f"workflow {target!r} defines several graphs ({names}); choose one with -a NAME")


def _as_graph(value: Any, target: str, attribute: str) -> WorkflowGraph:
    if callable(value) and not isinstance(value, WorkflowGraph):
        value = value()
    if not isinstance(value, WorkflowGraph):
        raise WorkflowLoadError(f"{target}.{attribute} is a {type(value).__name__}, not a WorkflowGraph")
    return value


def _top_level_graphs(module: ModuleType) -> dict[str, WorkflowGraph]:
    graphs = {
        name: value
        for name, value in vars(module).items()
        if isinstance(value, WorkflowGraph)
        and not name.startswith("_")
        and not value.inputmappings
        and not value.outputmappings  # composites are parts, not workflows
    }
    unique: dict[int, str] = {}
    for name, graph in graphs.items():
        unique.setdefault(id(graph), name)  # one graph under two names counts once
    return {name: graphs[name] for name in unique.values()}
