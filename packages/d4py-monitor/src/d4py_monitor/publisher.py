"""A run's records saved while it runs, from a thread of its own, so that saving never holds the run up.

The thread opens the run's target (a store or a collector) once the run
has gone on for ``LIVE_SECONDS``, saves the record then, again when reports
have changed it (at most every ``LIVE_SECONDS``, or ten times as long as the
last save took, for runs whose record has grown large), and the final
record at the end. A shorter run is saved once, at its end: opening and
writing a store while it runs would cost it more than it is worth. A
target that fails is given up for the local SQLite store, with one warning:
the run's later records, its final one included, are kept there.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from typing import Protocol

from d4py import D4pyError
from d4py_monitor.record import RunRecord
from d4py_monitor.store import default_location

__all__ = ["COLLECTOR_VARIABLE", "FINISH_SECONDS", "LIVE_SECONDS", "Publisher", "Target", "choose_target"]

COLLECTOR_VARIABLE = "D4PY_MONITOR_URL"  # the collector runs send to, when --monitor names none

LIVE_SECONDS = 1.0
FINISH_SECONDS = 10.0  # the most a run's end waits for its final record to be saved, whatever the target does

logger = logging.getLogger("d4py_monitor")


class Target(Protocol):
    """Where a run's records go: a :class:`~d4py_monitor.store.Store`, or a collector's sender."""

    location: str

    def save(self, run: RunRecord) -> None: ...

    def close(self) -> None: ...


class Publisher:
    """Saves ``snapshot()`` in the target ``open_target()`` opens, whenever :meth:`changed` says so.

    ``local`` says the target is the local store already: if it fails,
    there is nowhere else to go.
    """

    def __init__(self, snapshot: Callable[[], RunRecord], open_target: Callable[[], Target], local: bool) -> None:
        self.open_target, self.snapshot, self.local = open_target, snapshot, local
        self.condition = threading.Condition()
        self.pending = True  # the first record: the run has started
        self.final: RunRecord | None = None
        self.recorded = False  # whether the final record was saved
        self.fell_back = False  # whether records go to the local store in place of the target that failed
        self.thread = threading.Thread(target=self._publish, name="d4py-monitor publisher", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def changed(self) -> None:
        """Say the run's record has changed; the thread saves it when its interval allows.

        The thread is not woken: it looks when its interval is up (waking it would take the interpreter lock
        from the run's own thread, once per report).
        """
        self.pending = True

    def finish(self, run: RunRecord) -> None:
        """Save ``run``, the final record, and stop; locally if the thread has not within ``FINISH_SECONDS``."""
        with self.condition:
            self.final = run
            self.condition.notify()
        if self.thread.ident is None:  # never started: a process that does not publish live records
            self.thread.start()
        self.thread.join(FINISH_SECONDS)
        if self.thread.is_alive():
            target = "the local run store" if self.local else "the run's store or collector"
            error = TimeoutError(f"{target} did not take the record within {FINISH_SECONDS:g} s")
            local = self._fall_back(error)
            if local is not None:
                self._save(local, run)
                _close(local)

    def _publish(self) -> None:
        first = time.monotonic() + LIVE_SECONDS
        with self.condition:
            while self.final is None and time.monotonic() < first:
                self.condition.wait(first - time.monotonic())
        target = self._open()
        saved_at = interval = 0.0
        while target is not None:
            with self.condition:
                # A change, once the interval since the last save has passed; the final record waits for neither.
                while self.final is None and (not self.pending or time.monotonic() < saved_at + interval):
                    remaining = saved_at + interval - time.monotonic()
                    self.condition.wait(remaining if remaining > 0 else LIVE_SECONDS)
                final, self.pending = self.final, False
            started = time.monotonic()
            try:
                run = final if final is not None else self.snapshot()
            except Exception as error:  # a bug: the final record may still be saved
                logger.warning("d4py-monitor: a live record was not saved: %s: %s", type(error).__name__, error)
                continue
            target = self._save(target, run)
            saved_at = time.monotonic()
            interval = max(LIVE_SECONDS, 10 * (saved_at - started))
            if final is not None:
                break
        if target is not None:
            _close(target)

    def _open(self) -> Target | None:
        try:
            return self.open_target()
        except Exception as error:
            return self._fall_back(error)

    def _save(self, target: Target, run: RunRecord) -> Target | None:
        """Save ``run`` in ``target``, else in the local store; return where the next records go."""
        try:
            target.save(run)
            self.recorded = run is self.final
            return target
        except Exception as error:
            _close(target)
            local = self._fall_back(error)
            return self._save(local, run) if local is not None else None

    def _fall_back(self, error: Exception) -> Target | None:
        """Warn, and open the local store in place of the target that failed, unless it is what failed."""
        problem = str(error) if isinstance(error, (D4pyError, TimeoutError)) else f"{type(error).__name__}: {error}"
        if self.local:
            logger.warning("d4py-monitor: this run was not recorded: %s", problem)
            return None
        self.local = self.fell_back = True
        logger.warning("d4py-monitor: %s; this run's record is kept in %s instead", problem, default_location())
        from d4py_monitor.sqlite import SQLiteStore

        try:
            return SQLiteStore(default_location(), create=True)
        except Exception as error:
            return self._fall_back(error)  # now local: warns that the run was not recorded


def choose_target(collector: str | None, store: str | None) -> tuple[Callable[[], Target], bool]:
    """How to open where a run's records go, and whether that is the local store.

    ``collector`` (``--monitor``), else ``$D4PY_MONITOR_URL``; else ``store``
    (``--monitor-store``), else ``$D4PY_MONITOR_STORE``; else SQLite in ``$D4PY_HOME``.
    """
    from d4py_monitor.store import STORE_VARIABLE, open_store

    collector_option, store_option = "--monitor", "--monitor-store"
    if collector is None:
        collector, collector_option = os.environ.get(COLLECTOR_VARIABLE) or None, COLLECTOR_VARIABLE
    if collector is not None:
        address = collector

        def send() -> Target:
            from d4py_monitor.sender import Sender
            from d4py_monitor.wire import check_address

            return Sender(check_address(address, collector_option))

        return send, False
    if store is None:
        store, store_option = os.environ.get(STORE_VARIABLE) or None, STORE_VARIABLE
    url = store
    return (lambda: open_store(create=True, url=url, option=store_option)), url is None


def _close(target: Target) -> None:
    with suppress(Exception):  # a target that failed may fail again as it closes: it has had its warning
        target.close()
