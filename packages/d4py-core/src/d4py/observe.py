"""Observers: what a plugin learns about one running PE instance, in batches.

A plugin returns an :class:`Observer` from ``d4py_observe`` once per instance,
in the process that runs it. The runtime then keeps an :class:`Activity` per
instance (items read and written per port, the items written when the
observer asks for them, and where the time went) and hands it over in
batches: a few times a second while the run goes on, and once more when the
instance has finished. What ``report`` returns travels to the driving
process, over the backend's own channel, to ``d4py_observer_report``.

Observed or not, an instance runs the same code per item: reads and what
it sends each destination are tallies the runtime keeps anyway, and time is
sampled (:class:`Sampler`) rather than clocked per call. Only an observer
that asks for the items written (lineage) adds work per item.
"""

from __future__ import annotations

import inspect
import sys
import threading
import time
import weakref
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

from d4py.lineage import Written

__all__ = ["CLOSED", "SAMPLE_SECONDS", "Activity", "KeyWindow", "Observer", "Sampler", "Tally", "tallied", "tally_of"]

SAMPLE_SECONDS = 0.02  # how often a Sampler looks at what the instances' thread is running
KEY_WINDOW_ITEMS = 4096  # items a key window counts before it closes; the first window of a route counts as many
KEY_WINDOW_LOOKS = 5  # a Sampler reopens key windows every so many looks (every 100 ms)


class Tally:
    """Items (and, between processes, payload bytes) that went one way: into a receiver, or to a destination.

    Counters only, kept by the runtime for every instance; whoever reads one
    remembers what it saw last.
    """

    __slots__ = ("bytes", "items")

    def __init__(self) -> None:
        self.items = self.bytes = 0


_tallies: weakref.WeakKeyDictionary[Callable[..., None], Tally] = weakref.WeakKeyDictionary()
SendT = TypeVar("SendT", bound=Callable[..., None])


def tallied(send: SendT, tally: Tally) -> SendT:
    """Remember that ``send`` counts what it takes in ``tally``; returns ``send``."""
    _tallies[send] = tally
    return send


def tally_of(send: Callable[..., None]) -> Tally | None:
    """The tally ``send`` counts in, if it has one."""
    return _tallies.get(send)


class KeyWindow:
    """The group keys counted on one observed group_by route, in windows of items.

    A window is open for :data:`KEY_WINDOW_ITEMS` items, then closes itself
    until its :class:`Sampler` reopens it (every :data:`KEY_WINDOW_LOOKS`
    looks). A route's first items are counted exactly, and a fast route costs
    one attribute read per item while its window is closed: the counts are a
    sample of the keys, good for the skew they show (exact for short runs).
    While the window is open the route hands each key to ``add`` (None while
    closed), which only keeps it (keys are counted when taken), counts
    ``left`` down and closes the window at 0: inline, a call per item costs.
    """

    __slots__ = ("add", "keys", "left")

    def __init__(self, opened: bool = True) -> None:
        self.keys: list[Any] = []
        self.add: Callable[[Any], None] | None = self.keys.append if opened else None
        self.left = KEY_WINDOW_ITEMS

    def reopen(self) -> None:
        self.left = KEY_WINDOW_ITEMS
        self.add = self.keys.append

    def take(self) -> Counter[Any]:
        """How often each key was counted since the last take."""
        counts = Counter(self.keys)
        self.keys.clear()
        return counts


CLOSED = KeyWindow(opened=False)  # the window of every route nobody observes: never open


@dataclass
class Activity:
    """What one instance did since its observers last heard.

    ``reads`` and ``writes`` count items per port (a root's calls on port
    ``''``). ``sent`` counts, per (output port, destination PE, destination
    instance, input port), the items sent and their payload bytes when they
    crossed to another process (strings, bytes and arrays, as batching
    estimates them; 0 within a process, where nothing is copied). ``keys``
    counts, per destination, the group_by keys sent there, when they are
    strings, bytes or ints, sampled in
    windows of items (:class:`KeyWindow`: exact for a route's first 4,096). ``latency``
    holds samples, in seconds, of how long items waited between being queued
    in another process and being handed to this instance: one per batch that
    crossed (on backends that say when a batch was queued; wall clocks, so
    across hosts it is as good as their clocks agree). In a traced run
    (:mod:`d4py.lineage`), when an observer wants items, ``written`` holds a
    record ``(id, port, parents, item)`` per item written, run input read and
    set of inputs derived from (a :class:`~d4py.lineage.Written`, column by
    column); ``failed``, if a call failed, the ids of its inputs and what it
    was called with (the inputs mapping; None for ``preprocess`` and
    ``postprocess``). Times are in seconds, sampled: ``busy`` running the
    PE's code (and what it calls), ``blocked`` sending to a full downstream,
    ``idle`` waiting for input.
    """

    reads: dict[str, int] = field(default_factory=dict)
    writes: dict[str, int] = field(default_factory=dict)
    written: Written = field(default_factory=Written)
    busy: float = 0.0
    blocked: float = 0.0
    idle: float = 0.0
    sent: dict[tuple[str, str, int, str], tuple[int, int]] = field(default_factory=dict)
    keys: dict[tuple[str, str, int, str], dict[Any, int]] = field(default_factory=dict)
    latency: list[float] = field(default_factory=list)
    failed: tuple[tuple[int, ...], Any] | None = None

    def __bool__(self) -> bool:
        return bool(self.reads or self.writes or self.busy or self.blocked or self.idle)

    def take(self) -> Activity:
        """A copy of what has gathered, leaving this one empty (its dicts and list stay the same objects)."""
        taken = Activity(
            dict(self.reads),
            dict(self.writes),
            self.written.take(),
            self.busy,
            self.blocked,
            self.idle,
            dict(self.sent),
            dict(self.keys),
            list(self.latency),
            self.failed,
        )
        self.reads.clear()
        self.latency.clear()
        self.keys.clear()
        self.writes.clear()
        self.sent.clear()
        self.busy = self.blocked = self.idle = 0.0
        self.failed = None
        return taken


class Observer:
    """Base class of what ``d4py_observe`` returns; override what you use.

    An observer lives in the process that runs its instance. It must not
    change the items it sees.
    """

    #: Whether ``Activity.written`` should carry lineage records, in a traced run; counts always come.
    wants_items: ClassVar[bool] = False

    def observe(self, activity: Activity) -> None:
        """Take in one batch of activity; called a few times a second at most, and after ``postprocess``."""

    def report(self, final: bool) -> Any:
        """Return what the driving process should receive now (picklable), or None for nothing.

        Called after each ``observe``; ``final`` is true once: after the instance has finished, or when a
        failed run gives up on it.
        """
        return None


class Sampler:
    """Charges the time of one thread's instances by looking at its stack every ``SAMPLE_SECONDS``.

    Each look finds the innermost frame of a watched PE's own method
    (``process``, ``_process``, ``preprocess``, ``postprocess`` and their
    underscored forms, wherever the class defines them) and charges the time
    since the previous look to that instance: as ``blocked`` while a send
    wrapped by :meth:`sending` waits, as ``busy`` otherwise. Fused PEs call
    each other directly, so the innermost one is the one running. A look
    costs a few microseconds on another thread, whatever the item rate: this
    is what lets observation stay on (every 5 ms, looks cost xcorr on multi 7%
    of its run; every 20 ms, about 2%). The time is statistical, exact over
    many looks; a run shorter than a few looks may show none.
    """

    _METHODS = ("process", "_process", "preprocess", "_preprocess", "postprocess", "_postprocess")

    def __init__(self, seconds: float = SAMPLE_SECONDS) -> None:
        self.seconds = seconds
        self.sends = 0  # sends under way on the watched thread
        self._watched: dict[int, weakref.ref[Activity]] = {}  # id(pe) -> its instance's activity
        self._codes: dict[Any, set[int]] = {}  # a PE method's code -> the PEs here whose class has it
        self._known: set[int] = set()  # id() of every PE here, watched or not
        self._times: dict[int, list[float]] = {}  # id(activity) -> [busy, blocked] not yet drained
        self._windows: list[KeyWindow] = []  # reopened every KEY_WINDOW_LOOKS looks
        self._looks = 0
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._target = 0  # the thread that runs the instances
        self._last = 0.0  # when the last look was
        self._stop = threading.Event()

    def know(self, pe: Any) -> None:
        """Note ``pe``, watched or not: time in its methods is its own, never its caller's."""
        self._known.add(id(pe))
        for kind in type(pe).__mro__:
            for name in self._METHODS:
                function = kind.__dict__.get(name)
                if not callable(function):
                    continue
                for code in {getattr(function, "__code__", None), getattr(inspect.unwrap(function), "__code__", None)}:
                    if code is not None:  # a decorated method: the wrapper's code, and the method's own
                        self._codes.setdefault(code, set()).add(id(pe))

    def watch(self, pe: Any, activity: Activity) -> None:
        """Charge the time ``pe``'s methods run to ``activity``; starts sampling the calling thread."""
        self.know(pe)
        with self._lock:
            self._watched[id(pe)] = weakref.ref(activity)
            self._times[id(activity)] = [0.0, 0.0]
        if self._thread is None:
            self._target, self._last = threading.get_ident(), time.perf_counter()
            self._thread = threading.Thread(target=self._sample, name="d4py-sampler", daemon=True)
            self._thread.start()

    def sample_keys(self, window: KeyWindow) -> None:
        """Reopen ``window`` every :data:`KEY_WINDOW_LOOKS` looks while sampling goes on."""
        self._windows.append(window)

    def drain(self, activity: Activity) -> None:
        """Move the time charged to ``activity`` since the last drain into its ``busy`` and ``blocked``."""
        with self._lock:
            times = self._times.get(id(activity))
            if times is not None:
                activity.busy += times[0]
                activity.blocked += times[1]
                times[0] = times[1] = 0.0

    def forget(self, pe: Any, activity: Activity) -> None:
        """Stop charging ``pe``'s instance (it has finished); sampling ends with the last one."""
        self.drain(activity)
        with self._lock:
            self._watched.pop(id(pe), None)
            self._times.pop(id(activity), None)
            if not self._watched:
                self._stop.set()

    def stop(self) -> None:
        """End sampling now (a run that failed leaves instances unfinished)."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()

    def sending(self, send: Callable[[Any], None]) -> Callable[[Any], None]:
        """Wrap a transport's send so that looks during it count as blocked for the instance writing."""

        def sampled_send(batch: Any) -> None:
            self.sends += 1
            try:
                send(batch)
            finally:
                self.sends -= 1

        return sampled_send

    def look(self) -> bool:
        """Charge the time since the last look to the instance running now; False once its thread has gone."""
        frame = sys._current_frames().get(self._target)
        now = time.perf_counter()
        elapsed, self._last = now - self._last, now
        if frame is None:
            return False
        blocked = self.sends > 0
        with self._lock:
            times = self._owner(frame)
            if times is not None:
                times[1 if blocked else 0] += elapsed
        return True

    def _sample(self) -> None:
        while not self._stop.wait(self.seconds) and self.look():
            self._looks += 1
            if self._looks % KEY_WINDOW_LOOKS == 0:
                for window in self._windows:
                    window.reopen()

    def _owner(self, frame: Any) -> list[float] | None:
        codes, watched = self._codes, self._watched
        while frame is not None:
            owners = codes.get(frame.f_code)
            if owners:
                # One PE of this process has this method: it. Several (one class's instances, a shared base
                # method, a decorator's wrapper): the frame's ``self``, if it has one that is a PE known here.
                owner = next(iter(owners)) if len(owners) == 1 else id(frame.f_locals.get("self"))
                if owner in watched:
                    ref = watched[owner]
                    activity = ref()
                    return self._times.get(id(activity)) if activity is not None else None
                if owner in self._known:
                    return None  # a PE nobody watches: its time is nobody's, not its caller's
            frame = frame.f_back
        return None
