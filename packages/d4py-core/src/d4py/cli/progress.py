"""A live progress line on a terminal, built as a plugin on the run hooks."""

from __future__ import annotations

import threading
import time

from rich.console import Console
from rich.live import Live
from rich.text import Text

from d4py.backend import Backend, RunResult
from d4py.hookspecs import hookimpl
from d4py.plan import Plan
from d4py.runhooks import RunHooks

__all__ = ["ProgressDisplay"]


class ProgressDisplay:
    """Redraws a line of items processed per PE a few times a second, from the run's live counts.

    A driver-side plugin only: it reads ``run.live_counts()``, so it neither
    travels to worker processes nor slows an instance down. Registered only
    when stderr is a terminal.
    """

    def __init__(self, console: Console) -> None:
        self.console = console
        self.run: RunHooks | None = None
        self.started = 0.0
        self.backend = ""
        self.live_counts = True
        self._live: Live | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @hookimpl
    def d4py_run_start(self, plan: Plan, backend: Backend, run: RunHooks) -> None:
        self.run = run
        self.backend = backend.name
        self.live_counts = backend.live_counts
        self.started = time.perf_counter()
        self._live = Live(self._line(), console=self.console, transient=True, auto_refresh=False)
        self._live.start(refresh=True)  # the first frame at once, not after a refresh tick
        self._thread = threading.Thread(target=self._refresh, name="d4py-progress", daemon=True)
        self._thread.start()

    @hookimpl
    def d4py_run_end(self, plan: Plan, backend: Backend, result: RunResult | None, error: BaseException | None) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self._live is not None:
            self._live.stop()

    def _refresh(self) -> None:
        while not self._stop.wait(0.25):
            if self._live is not None:
                self._live.update(self._line(), refresh=True)

    def _line(self) -> Text:
        elapsed = time.perf_counter() - self.started if self.started else 0.0
        if not self.live_counts:
            return Text(f"d4py {self.backend}: running, {elapsed:.1f} s", style="dim")
        counts = self.run.live_counts() if self.run is not None else {}
        total = sum(counts.values())
        busiest = max(counts.items(), key=lambda kv: kv[1], default=("", 0))
        text = f"d4py {self.backend}: {total:,} items processed in {elapsed:.1f} s"
        if busiest[1]:
            text += f"  (most: {busiest[0]} {busiest[1]:,})"
        return Text(text, style="dim")
