"""Observers: what a plugin learns about one running PE instance, in batches.

A plugin returns an :class:`Observer` from ``d4py_observe`` once per instance,
in the process that runs it. The runtime then keeps an :class:`Activity` per
instance (items read and written per port, the items written when the
observer asks for them, and where the time went) and hands it over in
batches: a few times a second while the run goes on, and once more when the
instance has finished. What ``report`` returns travels to the driving
process, over the backend's own channel, to ``d4py_observer_report``.

Instances without observers keep the runtime's direct path: nothing is
counted or timed for them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

__all__ = ["Activity", "Clock", "Observer"]


@dataclass
class Activity:
    """What one instance did since its observers last heard.

    ``written`` holds (port, item, read) for each item written, when an
    observer wants items: ``read`` is how many items the instance had read
    when it wrote this one (0 in ``preprocess``), so a written item can be
    traced to the input it came from. Times are in seconds: ``busy`` in the
    PE's own code, ``blocked`` sending to a full downstream, ``idle`` waiting
    for input.
    """

    reads: dict[str, int] = field(default_factory=dict)
    writes: dict[str, int] = field(default_factory=dict)
    written: list[tuple[str, Any, int]] = field(default_factory=list)
    busy: float = 0.0
    blocked: float = 0.0
    idle: float = 0.0

    def __bool__(self) -> bool:
        return bool(self.reads or self.writes or self.busy or self.blocked or self.idle)

    def take(self) -> Activity:
        """A copy of what has gathered, leaving this one empty (its dicts and list stay the same objects)."""
        taken = Activity(dict(self.reads), dict(self.writes), list(self.written), self.busy, self.blocked, self.idle)
        self.reads.clear()
        self.writes.clear()
        self.written.clear()
        self.busy = self.blocked = self.idle = 0.0
        return taken


class Observer:
    """Base class of what ``d4py_observe`` returns; override what you use.

    An observer lives in the process that runs its instance. It must not
    change the items it sees.
    """

    #: Whether ``Activity.written`` should carry the items written (for lineage); counts always come.
    wants_items: ClassVar[bool] = False

    def observe(self, activity: Activity) -> None:
        """Take in one batch of activity; called a few times a second at most, and after ``postprocess``."""

    def report(self, final: bool) -> Any:
        """Return what the driving process should receive now (picklable), or None for nothing.

        Called after each ``observe``; ``final`` is true once, after the instance has finished.
        """
        return None


class Clock:
    """Times the instances of one process, each net of the instances and sends it calls.

    Fused PEs call each other directly, so one instance's ``process`` may run
    another's inside it; each is charged its own time only. A send that
    waits on a full downstream is charged as blocked to the instance writing.
    """

    def __init__(self) -> None:
        self.current: Activity | None = None
        self.nested = 0.0  # time taken by timed calls inside the running one

    def timed(self, activity: Activity, call: Callable[..., Any], *args: Any) -> Any:
        """Return ``call(*args)``, run as ``activity``'s instance, adding its own time to ``busy``."""
        outer, outer_nested = self.current, self.nested
        self.current, self.nested = activity, 0.0
        started = time.perf_counter()
        try:
            return call(*args)
        finally:
            elapsed = time.perf_counter() - started
            activity.busy += elapsed - self.nested
            self.current, self.nested = outer, outer_nested + elapsed

    def sending(self, send: Callable[[Any], None]) -> Callable[[Any], None]:
        """Wrap a transport's send so that its waiting counts as blocked for the writer."""

        def timed_send(batch: Any) -> None:
            started = time.perf_counter()
            try:
                send(batch)
            finally:
                elapsed = time.perf_counter() - started
                if self.current is not None:
                    self.current.blocked += elapsed
                self.nested += elapsed

        return timed_send
