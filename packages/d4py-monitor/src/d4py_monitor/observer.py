"""The observer every instance gets: counts and times from Activity batches, bucketed by wall-clock second.

It runs in the process that runs the instance, always, so it does its work
per batch (a few a second), never per item, and asks for no items. It
reports at most once a second, and once more when the instance has
finished: only what changed since its last report, so that a run that fails
keeps in the driving process what its instances did up to their last report.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from d4py.observe import Activity, Observer
from d4py.runtime import InstanceInfo

__all__ = ["LATENCY_SAMPLES", "REPORT_SECONDS", "InstanceObserver", "InstanceReport", "add_sent", "host_name", "spread"]

REPORT_SECONDS = 1.0  # how often, at most, an instance's observer reports while it runs
LATENCY_SAMPLES = 256  # latency samples an instance reports at most per report (one per batch that crossed)


@dataclass
class InstanceReport:
    """What one instance did since its previous report; ``seconds`` maps a wall-clock second to its share.

    A share is ``[items in, items out, busy, idle, blocked]``. ``sent`` maps
    (output port, destination PE, its instance, its input port) to ``[items,
    bytes]``, and ``keys`` the same destinations to the group_by keys sent
    there with their counts, as :class:`d4py.observe.Activity` counts them.
    """

    pe: str
    index: int
    host: str
    pid: int
    reads: dict[str, int] = field(default_factory=dict)
    writes: dict[str, int] = field(default_factory=dict)
    busy: float = 0.0
    idle: float = 0.0
    blocked: float = 0.0
    seconds: dict[int, list[float]] = field(default_factory=dict)
    sent: dict[tuple[str, str, int, str], list[int]] = field(default_factory=dict)
    keys: dict[tuple[str, str, int, str], dict[Any, int]] = field(default_factory=dict)
    latency: list[float] = field(default_factory=list)  # samples, at most LATENCY_SAMPLES a report


@cache
def host_name() -> str:
    """This machine's network name, as the process layout records it."""
    if hasattr(os, "uname"):
        return os.uname().nodename  # the socket module would add 3 ms to each process's start-up
    import socket

    return socket.gethostname()


class InstanceObserver(Observer):
    """Sums one instance's activity and spreads each batch over the seconds it covers."""

    wants_items = False

    def __init__(self, info: InstanceInfo) -> None:
        self.info = info
        self.since = self.reported_at = time.time()
        self.pending = self._fresh()

    def _fresh(self) -> InstanceReport:
        return InstanceReport(self.info.pe_id, self.info.index, host_name(), os.getpid())

    def observe(self, activity: Activity) -> None:
        now, pending = time.time(), self.pending
        add_counts(pending.reads, activity.reads)
        add_counts(pending.writes, activity.writes)
        pending.busy += activity.busy
        pending.idle += activity.idle
        pending.blocked += activity.blocked
        add_sent(pending.sent, activity.sent)
        for where, counts in activity.keys.items():
            add_counts(pending.keys.setdefault(where, {}), counts)
        room = LATENCY_SAMPLES - len(pending.latency)
        pending.latency.extend(activity.latency[:room])
        spread(self.since, now, activity, pending.seconds)
        self.since = now

    def report(self, final: bool) -> InstanceReport | None:
        if not final and (time.time() - self.reported_at < REPORT_SECONDS or not self.pending.seconds):
            return None
        report, self.pending, self.reported_at = self.pending, self._fresh(), time.time()
        return report


def add_counts(totals: dict[Any, int], counts: dict[Any, int]) -> None:
    """Add ``counts`` (per port, per key) into ``totals``."""
    for port, count in counts.items():
        totals[port] = totals.get(port, 0) + count


def add_sent(totals: dict[tuple[str, str, int, str], list[int]], sent: Any) -> None:
    """Add per-destination ``(items, bytes)`` into ``totals``."""
    for key, (items, size) in sent.items():
        cell = totals.setdefault(key, [0, 0])
        cell[0] += items
        cell[1] += size


def spread(start: float, end: float, activity: Activity, seconds: dict[int, list[float]]) -> None:
    """Add ``activity``, which happened between ``start`` and ``end``, to ``seconds`` in proportion to time.

    A batch covers up to half a second while an instance is busy, but far
    longer after a wait (idle time is charged when input arrives), so it is
    shared out rather than put in one second. Item counts stay whole: each
    second gets its share of the running total, rounded.
    """
    items_in, items_out = sum(activity.reads.values()), sum(activity.writes.values())
    if not (items_in or items_out or activity.busy or activity.idle or activity.blocked):
        return
    first, last = math.floor(start), math.floor(end)
    length = end - start
    done_in = done_out = 0
    for second in range(first, last + 1):
        # The share of [start, end) that falls in this second, as a running fraction of the whole.
        upto = 1.0 if second == last or length <= 0 else (second + 1 - start) / length
        share = upto - (0.0 if second == first else (second - start) / length)
        cumulative_in, cumulative_out = round(items_in * upto), round(items_out * upto)
        bucket = seconds.setdefault(second, [0, 0, 0.0, 0.0, 0.0])
        bucket[0] += cumulative_in - done_in
        bucket[1] += cumulative_out - done_out
        bucket[2] += activity.busy * share
        bucket[3] += activity.idle * share
        bucket[4] += activity.blocked * share
        done_in, done_out = cumulative_in, cumulative_out
