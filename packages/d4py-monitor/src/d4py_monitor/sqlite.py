"""The SQLite store: one file, safe with several runs writing at once.

WAL lets readers go on while a run writes; a writer waits for another's
transaction (``BUSY_SECONDS`` at most) instead of failing; each run is saved
in one transaction, so a reader sees all of a run or none of it. Saving a
run again replaces it (an upsert by id), so a run in progress can be saved as
it goes. The file appears complete: it is made under another name and linked
into place.
"""

from __future__ import annotations

import json
import os
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from d4py_monitor.record import InstanceRecord, RunRecord, RunSummary
from d4py_monitor.store import StoreError

__all__ = ["BUSY_SECONDS", "SCHEMA_VERSION", "SQLiteStore"]

BUSY_SECONDS = 10.0  # a run is saved in milliseconds: waiting this long means something else is wrong
SCHEMA_VERSION = 1

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS runs (
        id TEXT PRIMARY KEY, workflow TEXT NOT NULL, backend TEXT NOT NULL, status TEXT NOT NULL,
        started REAL NOT NULL, ended REAL NOT NULL, document TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS runs_started ON runs (started)",
    """CREATE TABLE IF NOT EXISTS instances (
        run_id TEXT NOT NULL, pe TEXT NOT NULL, idx INTEGER NOT NULL,
        process INTEGER NOT NULL, host TEXT NOT NULL, pid INTEGER NOT NULL,
        items_in INTEGER NOT NULL, items_out INTEGER NOT NULL, reads TEXT NOT NULL, writes TEXT NOT NULL,
        busy_s REAL NOT NULL, idle_s REAL NOT NULL, blocked_s REAL NOT NULL,
        PRIMARY KEY (run_id, pe, idx))""",
    """CREATE TABLE IF NOT EXISTS seconds (
        run_id TEXT NOT NULL, pe TEXT NOT NULL, idx INTEGER NOT NULL, second INTEGER NOT NULL,
        items_in INTEGER NOT NULL, items_out INTEGER NOT NULL,
        busy_s REAL NOT NULL, idle_s REAL NOT NULL, blocked_s REAL NOT NULL,
        PRIMARY KEY (run_id, pe, idx, second))""",
    f"PRAGMA user_version = {SCHEMA_VERSION}",
)


class SQLiteStore:
    """Run records in an SQLite file; with ``create``, the file and its folder are made if missing."""

    def __init__(self, path: Path, create: bool = True) -> None:
        self.location = str(path)
        if not create and not path.is_file():
            raise StoreError(f"no runs recorded yet: {path} does not exist")
        try:
            if create and not path.exists():
                _make(path)
            # Autocommit mode: transactions are begun explicitly, IMMEDIATE for writes, so writers queue up.
            self.db = sqlite3.connect(path, timeout=BUSY_SECONDS, isolation_level=None)
            # In WAL mode, commits need no fsync to keep the file sound (a power cut may lose the last runs):
            # saving a small run took 4.5 ms with one, 2.2 ms without (2026-11-27, 2 cores).
            self.db.execute("PRAGMA synchronous=NORMAL")
            version = self._version()
            if create and version == 0:  # an empty file someone else made: give it the tables
                with self._transaction():
                    self._create_tables()
            elif version not in (0, SCHEMA_VERSION):
                raise StoreError(f"{path} holds runs of another d4py-monitor release (schema {version}); upgrade it")
        except (sqlite3.Error, OSError) as error:
            raise StoreError(f"cannot open the run store {path}: {error}") from error

    def _version(self) -> int:
        version: int = self.db.execute("PRAGMA user_version").fetchone()[0]
        return version

    def _create_tables(self) -> None:
        if self._version() == 0:  # another process may have made them while this one waited
            for statement in _SCHEMA:
                self.db.execute(statement)

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """``BEGIN IMMEDIATE`` (a writer takes the lock up front, or waits for it), then commit or roll back."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def save(self, run: RunRecord) -> None:
        document = run.to_json()
        del document["instances"]
        details = [[i.pe, i.index, _details(i)] for i in run.instances if any(_details(i).values())]
        if details:  # the instances table has no columns for these: kept in the run's document
            document[_DETAILS] = details
        instances = [_instance_row(run.id, instance) for instance in run.instances]
        seconds = [(run.id, i.pe, i.index, *second) for i in run.instances for second in i.series]
        row = (run.id, run.workflow["name"], run.backend, run.status, run.started, run.ended)
        try:
            with self._transaction():
                for table, column in (("runs", "id"), ("instances", "run_id"), ("seconds", "run_id")):
                    self.db.execute(f"DELETE FROM {table} WHERE {column} = ?", (run.id,))
                self.db.execute(
                    "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?)", (*row, json.dumps(document, default=str))
                )
                self.db.executemany(f"INSERT INTO instances VALUES ({', '.join('?' * 13)})", instances)
                self.db.executemany(f"INSERT INTO seconds VALUES ({', '.join('?' * 9)})", seconds)
        except sqlite3.Error as error:
            raise StoreError(f"cannot save run {run.id} in {self.location}: {error}") from error

    def summaries(self) -> list[RunSummary]:
        rows = self._read("SELECT id, workflow, backend, status, started, ended FROM runs ORDER BY started DESC")
        return [RunSummary(*row) for row in rows]

    def ids(self, prefix: str) -> list[str]:
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return [row[0] for row in self._read("SELECT id FROM runs WHERE id LIKE ? ESCAPE '\\'", (escaped + "%",))]

    def newest(self) -> str | None:
        rows = self._read("SELECT id FROM runs ORDER BY started DESC LIMIT 1")
        return str(rows[0][0]) if rows else None

    def load(self, run_id: str) -> RunRecord:
        rows = self._read("SELECT document FROM runs WHERE id = ?", (run_id,))
        if not rows:
            raise StoreError(f"no run {run_id!r} in {self.location}")
        document = json.loads(rows[0][0])
        details = {(pe, index): fields for pe, index, fields in document.pop(_DETAILS, [])}
        series: dict[tuple[str, int], list[Any]] = {}
        for pe, index, *second in self._read(
            "SELECT pe, idx, second, items_in, items_out, busy_s, idle_s, blocked_s FROM seconds"
            " WHERE run_id = ? ORDER BY pe, idx, second",
            (run_id,),
        ):
            series.setdefault((pe, index), []).append(tuple(second))
        instances = self._read(
            "SELECT pe, idx, host, pid, process, reads, writes, busy_s, idle_s, blocked_s FROM instances"
            " WHERE run_id = ?",
            (run_id,),
        )
        run = RunRecord.from_json(document)
        run.instances = [
            InstanceRecord(
                pe,
                index,
                host,
                pid,
                process,
                json.loads(reads),
                json.loads(writes),
                busy,
                idle,
                blocked,
                series.get((pe, index), []),
                **_restored(details.get((pe, index), {})),
            )
            for pe, index, host, pid, process, reads, writes, busy, idle, blocked in instances
        ]
        order = {pe: number for number, pe in enumerate(pe["id"] for pe in run.workflow["graph"]["pes"])}
        run.instances.sort(key=lambda i: (order.get(i.pe, len(order)), i.index))
        return run

    def _read(self, query: str, parameters: tuple[Any, ...] = ()) -> list[Any]:
        try:
            return self.db.execute(query, parameters).fetchall()
        except sqlite3.Error as error:
            raise StoreError(f"cannot read the run store {self.location}: {error}") from error

    def close(self) -> None:
        self.db.close()


def _make(path: Path) -> None:
    """Make the store at ``path``, in WAL mode and with its tables, unless another process makes it first.

    Two runs may make it at once, and switching a shared file to WAL can fail
    at once with "database is locked" (SQLite's busy timeout does not cover
    it; seen with four writers starting together). So each makes its own copy
    and links it into place; the first link wins and the others use it.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex}.partial")
    try:
        db = sqlite3.connect(partial, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")  # kept in the file's header
            for statement in _SCHEMA:
                db.execute(statement)
        finally:
            db.close()
        with suppress(FileExistsError):  # another process linked its copy first: use that one
            os.link(partial, path)
    finally:
        partial.unlink(missing_ok=True)


_DETAILS = "instance_details"  # in a run's document: [pe, index, {bytes_in, bytes_out, sent, keys, latency}]


def _details(i: InstanceRecord) -> dict[str, Any]:
    """What an instance's row does not hold: bytes per port, its matrix row, its group keys and latency."""
    return {"bytes_in": i.bytes_in, "bytes_out": i.bytes_out, "sent": i.sent, "keys": i.keys, "latency": i.latency}


def _restored(details: dict[str, Any]) -> dict[str, Any]:
    """The details as saved, their group keys as (key, count) pairs again."""
    keys = {port: [(key, count) for key, count in top] for port, top in details.get("keys", {}).items()}
    return {**details, "keys": keys}


def _instance_row(run_id: str, i: InstanceRecord) -> tuple[Any, ...]:
    reads, writes = json.dumps(i.reads), json.dumps(i.writes)
    return (run_id, i.pe, i.index, i.process, i.host, i.pid, i.items_in, i.items_out, reads, writes, *i.times())
