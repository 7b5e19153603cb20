"""Every error d4py raises on purpose.

D4pyError
├── UsageError              bad input from the user: exit code 2
│   ├── GraphError          a graph that cannot be built or run
│   │   ├── PortError       an unknown port name
│   │   └── CycleError      a cycle in a graph
│   ├── TypeContractError   connected ports or keys that disagree
│   ├── InputError          bad -i/-d/-f run input
│   ├── OptionError         a bad -o key=value backend option
│   ├── WorkflowLoadError   a workflow module that cannot be loaded
│   └── BackendNotFound     an unknown backend name
├── BackendUnavailable      a backend whose dependency is missing (exit 2)
├── PluginError             a broken or conflicting plugin
└── RunFailed               the run started and failed: exit code 1
    └── PEFailure           a PE raised, naming PE, instance and item
"""

from __future__ import annotations

import reprlib
from typing import Any

__all__ = [
    "BackendNotFound",
    "BackendUnavailable",
    "CycleError",
    "D4pyError",
    "GraphError",
    "InputError",
    "OptionError",
    "PEFailure",
    "PluginError",
    "PortError",
    "RunFailed",
    "TypeContractError",
    "UsageError",
    "WorkflowLoadError",
]

_item_repr = reprlib.Repr()
_item_repr.maxstring = 120
_item_repr.maxother = 120
_item_repr.maxlist = _item_repr.maxtuple = _item_repr.maxdict = _item_repr.maxset = 16


def describe_item(item: Any) -> str:
    """Return a short, safe repr of a user item for error messages."""
    try:
        return _item_repr.repr(item)
    except Exception:  # a user __repr__ may itself be broken
        return f"<unprintable {type(item).__name__}>"


class D4pyError(Exception):
    """Base class of every error d4py raises on purpose."""

    exit_code = 1


class UsageError(D4pyError):
    """The user asked for something that cannot work; nothing has run."""

    exit_code = 2


class GraphError(UsageError):
    """A workflow graph that cannot be built or planned."""


class PortError(GraphError):
    """A port name that the PE does not declare."""


class CycleError(GraphError):
    """A cycle in a graph, which d4py does not run."""


class TypeContractError(UsageError):
    """Connected ports, group_by keys or flowing items that disagree with declared types."""


class InputError(UsageError):
    """Run input (-i, -d, -f) that does not fit the graph."""


class OptionError(UsageError):
    """A backend option that the backend does not accept."""


class WorkflowLoadError(UsageError):
    """A workflow module or file that cannot be imported, or holds no graph."""


class BackendNotFound(UsageError):
    """A backend name that no installed plugin provides."""


class BackendUnavailable(D4pyError):
    """A backend whose dependencies are not installed."""

    exit_code = 2


class PluginError(D4pyError):
    """A plugin that is broken or conflicts with another."""


class RunFailed(D4pyError):
    """A run that started and could not finish."""


class PEFailure(RunFailed):
    """A PE raised an exception while handling an item or a lifecycle call."""

    def __init__(
        self,
        pe_id: str,
        instance: int,
        stage: str,
        item: Any = None,
        *,
        has_item: bool = False,
        traceback_text: str = "",
    ) -> None:
        self.pe_id = pe_id
        self.instance = instance
        self.stage = stage
        self.item_text = describe_item(item) if has_item else None
        self.traceback_text = traceback_text
        where = f"PE '{pe_id}' (instance {instance}) failed in {stage}"
        if self.item_text is not None:
            where += f" on item {self.item_text}"
        super().__init__(where)

    def __reduce__(self) -> tuple[Any, ...]:
        # Failures cross process boundaries in parallel backends; keep the text, not the item.
        return (_rebuild_failure, (self.pe_id, self.instance, self.stage, self.item_text, self.traceback_text))


def _rebuild_failure(pe_id: str, instance: int, stage: str, item_text: str | None, traceback_text: str) -> PEFailure:
    failure = PEFailure(pe_id, instance, stage, traceback_text=traceback_text)
    failure.item_text = item_text
    if item_text is not None:
        failure.args = (f"{failure.args[0]} on item {item_text}",)
    return failure
