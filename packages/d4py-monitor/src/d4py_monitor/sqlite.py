"""The SQLite store: one file, safe with several runs writing at once.

WAL lets readers go on while a run writes; a writer waits for another's
transaction (``BUSY_SECONDS`` at most) instead of failing; each run is saved
in one transaction, so a reader sees all of a run or none of it; saving a run
again replaces its row and its instances (an upsert). The file appears
complete: it is made under another name and linked into place.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

from d4py_monitor.record import TRAFFIC, InstanceRecord, RunRecord, RunSummary
from d4py_monitor.store import NoRunsYet, StoreError, metadata_text

if TYPE_CHECKING:  # provenance's model is loaded where lineage is read or written, not for every run's record
    from d4py_monitor.prov.model import ItemBatch, ItemRecord, RunLineage

__all__ = ["BUSY_SECONDS", "SCHEMA_VERSION", "SQLiteStore"]

BUSY_SECONDS = 10.0  # a run is saved in milliseconds: waiting this long means something else is wrong
SCHEMA_VERSION = 4  # 2: instances.traffic; 3: lineage, items, item_metadata (provenance); 4: items in batches

# Provenance: a run's lineage (level, share, failed calls); its items in batches, one row per batch (ids from low
# to high, as ItemBatch.pack gives them: a row per item took longer to save than the run took); the items'
# metadata one key a row, to search.
_LINEAGE_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS lineage (
        run_id TEXT PRIMARY KEY, level TEXT NOT NULL, share REAL NOT NULL, failures TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS item_batches (
        run_id TEXT NOT NULL, pe TEXT NOT NULL, instance INTEGER NOT NULL, low INTEGER NOT NULL,
        high INTEGER NOT NULL, ids BLOB NOT NULL, parents BLOB NOT NULL, columns TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS item_batches_run ON item_batches (run_id, low)",
    """CREATE TABLE IF NOT EXISTS item_metadata (
        run_id TEXT NOT NULL, id INTEGER NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS item_metadata_key ON item_metadata (key, value)",
)

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
        traffic TEXT NOT NULL DEFAULT '{}',
        PRIMARY KEY (run_id, pe, idx))""",
    """CREATE TABLE IF NOT EXISTS seconds (
        run_id TEXT NOT NULL, pe TEXT NOT NULL, idx INTEGER NOT NULL, second INTEGER NOT NULL,
        items_in INTEGER NOT NULL, items_out INTEGER NOT NULL,
        busy_s REAL NOT NULL, idle_s REAL NOT NULL, blocked_s REAL NOT NULL,
        PRIMARY KEY (run_id, pe, idx, second))""",
    *_LINEAGE_SCHEMA,
    f"PRAGMA user_version = {SCHEMA_VERSION}",
)


class SQLiteStore:
    """Run records in an SQLite file; with ``create``, the file and its folder are made if missing."""

    def __init__(self, path: Path, create: bool = True) -> None:
        self.location = str(path)
        if not create and not path.is_file():
            raise NoRunsYet(f"no runs recorded yet in {path}")
        try:
            if create and not path.exists():
                _make(path)
            # Autocommit mode: transactions are begun explicitly, IMMEDIATE for writes, so writers queue up.
            # The connection may move to another thread (a collector's, a run's publisher), one at a time.
            self.db = sqlite3.connect(path, timeout=BUSY_SECONDS, isolation_level=None, check_same_thread=False)
            # In WAL mode, commits need no fsync to keep the file sound (a power cut may lose the last runs):
            # saving a small run took 4.5 ms with one, 2.2 ms without (2026-11-27, 2 cores).
            self.db.execute("PRAGMA synchronous=NORMAL")
            version = self._version()
            if create and version == 0:  # an empty file someone else made: give it the tables
                with self._transaction():
                    self._create_tables()
            elif version in (1, 2, 3):  # runs recorded before traffic, before provenance, or items one a row
                with self._transaction():
                    self._upgrade()
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

    def _upgrade(self) -> None:
        version = self._version()  # another process may have upgraded it while this one waited
        if version == 1:  # runs recorded before instances had traffic keep none
            self.db.execute("ALTER TABLE instances ADD COLUMN traffic TEXT NOT NULL DEFAULT '{}'")
        if version in (1, 2, 3):  # runs recorded before provenance have none
            for statement in _LINEAGE_SCHEMA:
                self.db.execute(statement)
        if version == 3:  # items one a row: into batches
            from d4py_monitor.prov.model import RunLineage

            for (run_id,) in self.db.execute("SELECT DISTINCT run_id FROM items").fetchall():
                rows = self.db.execute(
                    "SELECT id, pe, instance, port, parents, value, output, metadata FROM items WHERE run_id = ?",
                    (run_id,),
                ).fetchall()
                records = {record.id: record for record in (_item_of_schema_3(*row) for row in rows)}
                self._insert_batches(run_id, RunLineage(run_id, "", 0.0, records).batches())
            self.db.execute("DROP TABLE items")
        if version in (1, 2, 3):
            self.db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

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
        instances = [_instance_row(run.id, instance) for instance in run.instances]
        seconds = [(run.id, i.pe, i.index, *second) for i in run.instances for second in i.series]
        row = (run.id, run.workflow["name"], run.backend, run.status, run.started, run.ended)
        try:
            with self._transaction():
                self.db.execute(
                    "INSERT OR REPLACE INTO runs VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (*row, json.dumps(document, default=str)),
                )
                self.db.execute("DELETE FROM instances WHERE run_id = ?", (run.id,))
                self.db.execute("DELETE FROM seconds WHERE run_id = ?", (run.id,))
                self.db.executemany(f"INSERT INTO instances VALUES ({', '.join('?' * 14)})", instances)
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
        series: dict[tuple[str, int], list[Any]] = {}
        for pe, index, *second in self._read(
            "SELECT pe, idx, second, items_in, items_out, busy_s, idle_s, blocked_s FROM seconds"
            " WHERE run_id = ? ORDER BY pe, idx, second",
            (run_id,),
        ):
            series.setdefault((pe, index), []).append(tuple(second))
        instances = self._read(
            "SELECT pe, idx, host, pid, process, reads, writes, busy_s, idle_s, blocked_s, traffic FROM instances"
            " WHERE run_id = ?",
            (run_id,),
        )
        run = RunRecord.from_json(document)
        run.instances = [_instance(*row) for row in instances]
        for instance in run.instances:
            instance.series = series.get((instance.pe, instance.index), [])
        order = {pe: number for number, pe in enumerate(pe["id"] for pe in run.workflow["graph"]["pes"])}
        run.instances.sort(key=lambda i: (order.get(i.pe, len(order)), i.index))
        return run

    def save_lineage(self, lineage: RunLineage) -> None:
        run_id = lineage.run_id
        failures = json.dumps([failure.to_json() for failure in lineage.failures])
        batches = lineage.batches()
        metadata = [
            (run_id, batch.rows.ids[row], key, metadata_text(value))
            for batch in batches
            for row, described in batch.metadata.items()
            for key, value in described.items()
        ]
        try:
            with self._transaction():
                for table in ("lineage", "item_batches", "item_metadata"):
                    self.db.execute(f"DELETE FROM {table} WHERE run_id = ?", (run_id,))
                self.db.execute(
                    "INSERT INTO lineage VALUES (?, ?, ?, ?)", (run_id, lineage.level, lineage.share, failures)
                )
                self._insert_batches(run_id, batches)
                self.db.executemany("INSERT INTO item_metadata VALUES (?, ?, ?, ?)", metadata)
        except sqlite3.Error as error:
            raise StoreError(f"cannot save the provenance of run {run_id} in {self.location}: {error}") from error

    def _insert_batches(self, run_id: str, batches: list[ItemBatch]) -> None:
        from d4py_monitor.prov.model import BATCH_ROWS

        rows = []
        for batch in batches:
            for piece in batch.split(BATCH_ROWS):
                ids, parents, document = piece.pack()
                low, high = min(piece.rows.ids), max(piece.rows.ids)
                columns = json.dumps(document, default=str)
                rows.append((run_id, piece.pe, piece.instance, low, high, ids, parents, columns))
        self.db.executemany("INSERT INTO item_batches VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)

    def load_lineage(self, run_id: str) -> RunLineage | None:
        from d4py_monitor.prov.model import Failure, RunLineage

        rows = self._read("SELECT level, share, failures FROM lineage WHERE run_id = ?", (run_id,))
        if not rows:
            return None
        level, share, failures = rows[0]
        found = self._read(
            "SELECT pe, instance, ids, parents, columns FROM item_batches WHERE run_id = ? ORDER BY low", (run_id,)
        )
        try:
            batches = [_batch(*row) for row in found]
            failed = [Failure.from_json(failure) for failure in json.loads(failures)]
        except (ValueError, TypeError, KeyError) as error:
            raise StoreError(f"the provenance of run {run_id} in {self.location} is damaged: {error}") from error
        return RunLineage(run_id, level, share, failures=failed, batches=batches)

    def lineage_level(self, run_id: str) -> str | None:
        rows = self._read("SELECT level FROM lineage WHERE run_id = ?", (run_id,))
        return str(rows[0][0]) if rows else None

    def search_items(self, key: str, value: str, run_id: str | None = None) -> list[tuple[str, ItemRecord]]:
        query = (
            "SELECT m.run_id, m.id FROM item_metadata m JOIN runs r ON r.id = m.run_id WHERE m.key = ? AND m.value = ?"
        )
        parameters: tuple[Any, ...] = (key, value)
        if run_id is not None:
            query, parameters = query + " AND m.run_id = ?", (*parameters, run_id)
        found: list[tuple[str, ItemRecord]] = []
        for run, item_id in self._read(query + " ORDER BY r.started, m.id", parameters):
            candidates = self._read(
                "SELECT pe, instance, ids, parents, columns FROM item_batches"
                " WHERE run_id = ? AND low <= ? AND high >= ?",
                (run, item_id, item_id),
            )
            try:
                batches = [_batch(*candidate) for candidate in candidates]
            except (ValueError, TypeError, KeyError) as error:
                raise StoreError(f"the provenance in {self.location} is damaged: {error}") from error
            found.extend((run, b.record(b.rows.ids.index(item_id))) for b in batches if item_id in b.rows.ids)
        return found

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
    partial = path.with_name(f".{path.name}.{os.urandom(16).hex()}.partial")
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


def _batch(pe: str, instance: int, ids: bytes, parents: bytes, columns: str) -> ItemBatch:
    from d4py_monitor.prov.model import ItemBatch

    return ItemBatch.unpack(pe, instance, ids, parents, json.loads(columns))


def _item_of_schema_3(
    item_id: int, pe: str, instance: int, port: str | None, parents: str, value: str, output: int, metadata: str
) -> ItemRecord:
    """An item as schema 3 kept it, one a row."""
    from d4py_monitor.prov.model import ItemRecord

    found = json.loads(metadata) if metadata != "{}" else {}
    return ItemRecord(item_id, pe, instance, port, tuple(map(int, parents.split())), value, bool(output), found)


def _instance_row(run_id: str, i: InstanceRecord) -> tuple[Any, ...]:
    reads, writes = json.dumps(i.reads), json.dumps(i.writes)
    traffic = json.dumps({name: getattr(i, name) for name in TRAFFIC})
    return (
        run_id,
        i.pe,
        i.index,
        i.process,
        i.host,
        i.pid,
        i.items_in,
        i.items_out,
        reads,
        writes,
        *i.times(),
        traffic,
    )


def _instance(
    pe: str, index: int, host: str, pid: int, process: int, reads: str, writes: str, *times_and_traffic: Any
) -> InstanceRecord:
    busy_s, idle_s, blocked_s, traffic = times_and_traffic
    document = {"pe": pe, "index": index, "host": host, "pid": pid, "process": process, "busy_s": busy_s}
    document.update(idle_s=idle_s, blocked_s=blocked_s, reads=json.loads(reads), writes=json.loads(writes))
    document.update((name, value) for name, value in json.loads(traffic).items() if name in TRAFFIC)
    return InstanceRecord.from_json(document)
