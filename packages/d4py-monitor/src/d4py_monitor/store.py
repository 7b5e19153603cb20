"""Where run records are kept: the :class:`Store` protocol, which store a URL names, and finding a run.

SQLite (:mod:`d4py_monitor.sqlite`) is the default, in ``$D4PY_HOME``;
MongoDB (:mod:`d4py_monitor.mongodb`) when a ``mongodb://`` URL is given.
Both keep the same JSON documents (:meth:`RunRecord.to_json`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from d4py import D4pyError, UsageError
from d4py.home import d4py_home
from d4py_monitor.record import RunRecord, RunSummary
from d4py_monitor.redact import redact_url

if TYPE_CHECKING:
    from d4py_monitor.prov.model import ItemRecord, RunLineage

__all__ = [
    "LAST",
    "STORE_VARIABLE",
    "NoRunsYet",
    "Store",
    "StoreError",
    "UnknownRun",
    "check_store_url",
    "default_location",
    "encode",
    "find_run",
    "metadata_text",
    "open_store",
]

LAST = "last"  # the run reference that means the newest run
STORE_VARIABLE = "D4PY_MONITOR_STORE"  # the store runs save to and d4py runs reads, when no option names one
MONGODB_SCHEMES = ("mongodb://", "mongodb+srv://")
SQLITE_SCHEME = "sqlite:"


class StoreError(D4pyError):
    """A store that cannot be opened, read or written, or a collector that cannot be reached (exit 1)."""


class NoRunsYet(StoreError):
    """A store that does not exist yet: no run was ever saved in it."""


class UnknownRun(UsageError):
    """A run reference that matches no run, or more than one (exit 2)."""


class Store(Protocol):
    """Keeps run records; safe with several processes saving at once.

    A store may be handed from the thread that opened it to another, as long
    as one thread uses it at a time.
    """

    location: str  # where it is, as messages show it (no password)

    def save(self, run: RunRecord) -> None:
        """Keep ``run``, all of it or nothing, in place of any record with its id (an upsert).

        A run is saved when it starts (status ``running``), again while it
        runs, and finally when it ends: readers see its latest record.
        """

    def summaries(self) -> list[RunSummary]:
        """Every run, newest first."""

    def ids(self, prefix: str) -> list[str]:
        """The ids of the runs whose id starts with ``prefix``."""

    def newest(self) -> str | None:
        """The id of the run that started last, or None when there is none."""

    def load(self, run_id: str) -> RunRecord:
        """The run with this exact id, instances and their seconds included."""

    def save_lineage(self, lineage: RunLineage) -> None:
        """Keep a run's provenance beside its record, all of it or nothing, in place of any it had."""

    def load_lineage(self, run_id: str) -> RunLineage | None:
        """The provenance kept of the run with this exact id, or None if it has none."""

    def lineage_level(self, run_id: str) -> str | None:
        """The level of the provenance kept of the run with this exact id, or None if it has none (cheap)."""

    def search_items(self, key: str, value: str, run_id: str | None = None) -> list[tuple[str, ItemRecord]]:
        """(run id, item) of each item whose metadata ``key`` is ``value`` (:func:`metadata_text`), oldest run first."""

    def close(self) -> None: ...


def metadata_text(value: Any) -> str:
    """A metadata value as ``d4py prov search KEY=VALUE`` matches it: a string as it is, anything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value, default=str)


def encode(run: RunRecord) -> str:
    """``run`` as the JSON text every store and collector message keeps (values JSON cannot hold as text)."""
    return json.dumps(run.to_json(), default=str)


def default_location() -> Path:
    """``runs.sqlite`` in ``$D4PY_HOME``."""
    return d4py_home() / "runs.sqlite"


def check_store_url(url: str, option: str) -> str:
    """``url`` if it names a store (``mongodb://...``, ``sqlite:PATH``), else a UsageError naming ``option``."""
    if url.startswith(MONGODB_SCHEMES):
        from d4py_monitor.mongodb import check_url

        check_url(url, option)
    elif not url.startswith(SQLITE_SCHEME) or not _sqlite_path(url).name:
        raise UsageError(
            f"{option} {redact_url(url)!r}: not a run store; give mongodb://HOST[:PORT]/DATABASE "
            "or sqlite:///PATH/runs.sqlite"
        )
    return url


def open_store(create: bool, url: str | None = None, option: str = "--store") -> Store:
    """The store ``url`` names, else the one ``$D4PY_MONITOR_STORE`` names, else SQLite in ``$D4PY_HOME``.

    With ``create``, an SQLite store is made if missing; without, a missing one is :class:`NoRunsYet`.
    """
    if url is None:
        url, option = os.environ.get(STORE_VARIABLE) or None, STORE_VARIABLE
    from d4py_monitor.sqlite import SQLiteStore

    if url is None:
        return SQLiteStore(default_location(), create=create)
    if check_store_url(url, option).startswith(SQLITE_SCHEME):
        return SQLiteStore(_sqlite_path(url), create=create)
    from d4py_monitor.mongodb import MongoStore

    return MongoStore(url)


def _sqlite_path(url: str) -> Path:
    """The file of ``sqlite:///abs/path`` or ``sqlite:relative/path``."""
    path = url[len(SQLITE_SCHEME) :]
    return Path(path[2:] if path.startswith("//") else path)


def find_run(store: Store, reference: str) -> str:
    """The id ``reference`` means: ``last``, an id, or a prefix of exactly one id."""
    if not reference.strip():
        raise UnknownRun("give a run: its id, a prefix of exactly one id, or 'last'")
    if reference == LAST:
        newest = store.newest()
        if newest is None:
            raise UnknownRun(f"no runs recorded yet in {store.location}")
        return newest
    found = store.ids(reference)
    if reference in found:
        return reference
    if not found:
        raise UnknownRun(f"no run {reference!r} in {store.location}; d4py runs list shows the runs")
    if len(found) > 1:
        shown = ", ".join(sorted(found)[:5]) + (", ..." if len(found) > 5 else "")
        raise UnknownRun(f"run {reference!r} is ambiguous: it begins {len(found)} run ids ({shown}); type more of it")
    return found[0]
