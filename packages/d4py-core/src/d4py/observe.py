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

import _thread
import inspect
import signal
import sys
import threading
import time
import weakref
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

from d4py.lineage import Written

__all__ = [
    "CLOSED",
    "KEY_WINDOW_ITEMS",
    "KEY_WINDOW_TOP",
    "SAMPLE_SECONDS",
    "Activity",
    "KeyWindow",
    "Observer",
    "Sampler",
    "Tally",
    "tallied",
    "tally_of",
]

SAMPLE_SECONDS = 0.02  # how often a Sampler looks at what the instances' thread is running
KEY_WINDOW_ITEMS = 1024  # items a key window counts before it closes; the first window of a route counts as many
KEY_WINDOW_TOP = 64  # the most frequent keys of a window handed on; the rest of its keys are dropped
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
    Only a window's :data:`KEY_WINDOW_TOP` most frequent keys are handed on:
    the skew is in the few keys that dominate, and the long tail of a large
    vocabulary would cost every stage after (a run's fixed cost, not its items').
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

    def take(self) -> dict[Any, int]:
        """How often each of the most frequent keys was counted since the last take."""
        counts = Counter(self.keys)
        self.keys.clear()
        return counts if len(counts) <= KEY_WINDOW_TOP else dict(counts.most_common(KEY_WINDOW_TOP))


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
    windows of items (:class:`KeyWindow`: exact for the most frequent keys of a route's first 1,024). ``latency``
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
    underscored forms, wherever the class defines them) and charges the wall
    time since the previous look to that instance: as ``blocked`` while a
    send wrapped by :meth:`sending` waits, as ``busy`` otherwise. Fused PEs
    call each other directly, so the innermost one is the one running.

    On the main thread, looks are made there, by a timer signal (SIGPROF,
    every ``seconds`` of the process's CPU time), when no one else uses it:
    a look from another thread must take the interpreter lock from the
    instances, and on a busy 2-core machine each such handover cost the run
    about a millisecond (5% of word count's run at one look every 20 ms).
    A sampler thread looks while the timer is silent (the instances wait on
    I/O, or a send, without using the CPU): it checks every ``seconds``
    times ``_STAND_BACK`` that the timer still ticks, and is the only looker
    elsewhere (instances on another thread, no SIGPROF, a profiler owning
    it). The time is statistical, exact over many looks; a run shorter than
    a few looks may show none.
    """

    _METHODS = ("process", "_process", "preprocess", "_preprocess", "postprocess", "_postprocess")
    _STAND_BACK = 25  # while the timer looks, the thread checks it is still ticking every so many intervals
    _FIRST = 5  # with the timer, the thread's first check is so many intervals on

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
        self._sampling = False  # the sampler's thread has been started
        self._target = 0  # the thread that runs the instances
        self._last = 0.0  # when the last look was
        self._stop = threading.Event()
        self._ticking = False  # the timer signal looks
        self._ticked = False  # it has looked since the thread last checked
        self._resting = False  # the instances' thread has done what it had and waits for more (rest())
        self._rested_from = 0.0  # when the current rest began
        self._rested = 0.0  # all the time rested before it (written by the instances' thread only)
        self._rested_at_last = 0.0  # what ``_rested`` was at the last look, with the rest then under way
        self._previous_handler: Any = None  # SIGPROF's handler before this sampler took it

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
        if not self._sampling:
            self._sampling = True
            self._target, self._last = threading.get_ident(), time.perf_counter()
            self._ticking = self._take_timer()
            # Not threading.Thread: its start() waits until the new thread runs, 0.3 ms of the instances' thread
            # in each new process, for a thread that needs nothing from it. It ends by itself, as a daemon would;
            # threading.enumerate() does not list it, and an error in it goes to sys.unraisablehook.
            _thread.start_new_thread(self._sample, ())

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
            last = not self._watched
        if last:
            self._stop.set()
            self._release_timer()

    def stop(self) -> None:
        """End sampling now (a run that failed leaves instances unfinished).

        The thread is not waited for: it looks no more, and ends as it wakes (waiting for it would hand it the
        interpreter lock before the run could end).
        """
        self._stop.set()
        self._release_timer()

    def rest(self) -> None:
        """The instances' thread has handled what it had and waits for more: a look would charge no one.

        While it rests and the timer looks, the thread does not (each of its looks in an idle worker took the
        interpreter lock for nothing, and the CPU from the busy workers).
        """
        self._rested_from = time.perf_counter()
        self._resting = True

    def wake(self) -> None:
        """The instances' thread has work again: the time it rested is no one's.

        A look charges the time since the previous one less the rests between them, so the batches handled in
        between are charged, not only the one under way.
        """
        if self._resting:
            self._rested += time.perf_counter() - self._rested_from
            self._resting = False

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
        if frame is None:
            return False
        with self._lock:
            self._charge(frame)
        return True

    def _take_timer(self) -> bool:
        """Look by SIGPROF on this thread from now on, if it is the main thread and no one else has the signal."""
        if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
            return False
        handler = signal.getsignal(signal.SIGPROF)
        stale = isinstance(getattr(handler, "__self__", None), Sampler)  # a finished sampler's (a forked parent's)
        free = stale or handler in (signal.SIG_DFL, signal.SIG_IGN, None)
        if not free or any(signal.getitimer(signal.ITIMER_PROF)):
            return False
        self._previous_handler = signal.SIG_DFL if stale else handler
        signal.signal(signal.SIGPROF, self._tick)
        signal.setitimer(signal.ITIMER_PROF, self.seconds, self.seconds)
        return True

    def _release_timer(self) -> None:
        """Stop the timer and give SIGPROF back (its handler only from the main thread, which took it)."""
        if not self._ticking:
            return
        self._ticking = False
        signal.setitimer(signal.ITIMER_PROF, 0)
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGPROF, self._previous_handler)

    def _tick(self, signum: int, frame: Any) -> None:
        # Runs on the main thread between two bytecodes: the lock may be held below it (a drain), so never wait
        # for it; a look skipped is charged by the next.
        if self._ticking and self._lock.acquire(blocking=False):
            try:
                self._charge(frame)
                self._ticked = True
            finally:
                self._lock.release()

    def _charge(self, frame: Any) -> None:
        if self._resting:
            # Nothing of a PE runs (a timer signal lands while another thread of the process used the CPU): the
            # time worked since the last look is left for the next look made at work, which charges it.
            return
        now = time.perf_counter()
        # Read without a lock from the instances' thread's rest() and wake(): a rest miscounted by a race is made
        # up at the next look, as the totals are cumulative.
        rested = self._rested
        elapsed = max(0.0, now - self._last - (rested - self._rested_at_last))
        self._last, self._rested_at_last = now, rested
        times = self._owner(frame)
        if times is not None:
            times[1 if self.sends > 0 else 0] += elapsed
        self._looks += 1
        if self._looks % KEY_WINDOW_LOOKS == 0:
            for window in self._windows:
                window.reopen()

    def _sample(self) -> None:
        interval = self.seconds * (self._FIRST if self._ticking else 1)
        while not self._stop.wait(interval):
            if self._ticking and (self._ticked or self._resting):  # the timer looks, or there is nothing to see
                self._ticked = False
                interval = self.seconds * self._STAND_BACK
            elif self.look():
                interval = self.seconds
            else:
                return

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
