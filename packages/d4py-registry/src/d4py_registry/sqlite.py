"""The local store: one SQLite file under ``$D4PY_HOME``, safe for many writers at once.

WAL lets readers go on while one writer writes; every write is one
``BEGIN IMMEDIATE`` transaction, so two ``d4py registry add`` racing for the
same version see one succeed and one refused, never a half-written entry.
Sources are kept once per sha256, however many entries share a module.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from d4py.home import d4py_home
from d4py_registry.entry import Entry, parse_ref, sha256_of, version_key
from d4py_registry.errors import DuplicateVersion, HashMismatch, NotRegistered, RegistryError
from d4py_registry.typematch import assignable

__all__ = ["SQLiteStore", "default_path"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS sources (sha256 TEXT PRIMARY KEY, source BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS entries (
    id INTEGER PRIMARY KEY,
    namespace TEXT NOT NULL,
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    sha256 TEXT NOT NULL REFERENCES sources (sha256),
    document TEXT NOT NULL,
    UNIQUE (namespace, name, version)
);
CREATE TABLE IF NOT EXISTS ports (
    entry INTEGER NOT NULL REFERENCES entries (id) ON DELETE CASCADE,
    direction TEXT NOT NULL,
    type TEXT
);
CREATE INDEX IF NOT EXISTS ports_by_entry ON ports (entry);
CREATE VIRTUAL TABLE IF NOT EXISTS search USING fts5 (names, doc, ports, types);
"""


def default_path() -> Path:
    return d4py_home() / "registry.sqlite"


class SQLiteStore:
    """The registry in one SQLite file (default: ``$D4PY_HOME/registry.sqlite``)."""

    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path) if path is not None else default_path()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # Autocommit mode: transactions are opened explicitly, IMMEDIATE for writes.
            self._db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA foreign_keys = ON")
            self._db.executescript(SCHEMA)
        except (OSError, sqlite3.Error) as error:
            raise RegistryError(f"cannot open the registry at {self.path}: {error} (D4PY_HOME moves it)") from None
        self._db.create_function("assignable", 2, assignable, deterministic=True)

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def add(self, entries: Sequence[Entry], source: bytes) -> list[Entry]:
        digest = sha256_of(source)
        stale = [e.ref for e in entries if e.sha256 != digest]
        if stale:
            raise HashMismatch(f"{', '.join(stale)}: the source given does not match its sha256; nothing added")
        refs = [e.ref for e in entries]
        if len(set(refs)) != len(refs):
            raise DuplicateVersion(f"the entries name one version twice ({', '.join(refs)}); nothing added")
        added = datetime.now(timezone.utc).isoformat(timespec="seconds")
        stored = [e.stamped(added) for e in entries]
        with self._writing() as db:
            for entry in stored:
                self._refuse_duplicate(entry)
            db.execute("INSERT OR IGNORE INTO sources VALUES (?, ?)", (digest, source))
            for entry in stored:
                self._insert(entry)
        return stored

    def _refuse_duplicate(self, entry: Entry) -> None:
        row = self._db.execute(
            "SELECT sha256 FROM entries WHERE namespace = ? AND name = ? AND version = ?",
            (entry.namespace, entry.name, entry.version),
        ).fetchone()
        if row:
            same = " with the same source" if row[0] == entry.sha256 else ""
            raise DuplicateVersion(
                f"{entry.ref} is already registered{same}; a version never changes: give another --version"
            )

    def _insert(self, entry: Entry) -> None:
        cursor = self._db.execute(
            "INSERT INTO entries (namespace, name, version, sha256, document) VALUES (?, ?, ?, ?, ?)",
            (entry.namespace, entry.name, entry.version, entry.sha256, json.dumps(entry.to_json())),
        )
        self._db.executemany(
            "INSERT INTO ports VALUES (?, ?, ?)", [(cursor.lastrowid, p.direction, p.type) for p in entry.ports]
        )
        names = " ".join([entry.qualified, entry.kind, *_words(entry.name)])
        ports = " ".join(word for p in entry.ports for word in (p.name, *_words(p.name)))
        types = " ".join(p.type for p in entry.ports if p.type)
        self._db.execute(
            "INSERT INTO search (rowid, names, doc, ports, types) VALUES (?, ?, ?, ?, ?)",
            (cursor.lastrowid, names, entry.doc, ports, types),
        )

    def search(self, text: str = "", accepts: str | None = None, produces: str | None = None) -> list[Entry]:
        query = "SELECT e.document FROM entries e"
        clauses, values = [], []
        terms = re.findall(r"\w+", text)
        if terms:
            # Each word as a quoted prefix: user text is never FTS syntax, and 'count' finds CountWords.
            query += " JOIN search ON search.rowid = e.id"
            clauses.append("search MATCH ?")
            values.append(" AND ".join(f'"{term}"*' for term in terms))
        if accepts:
            clauses.append("e.id IN (SELECT entry FROM ports WHERE direction = 'input' AND assignable(?, type))")
            values.append(accepts)
        if produces:
            clauses.append("e.id IN (SELECT entry FROM ports WHERE direction = 'output' AND assignable(type, ?))")
            values.append(produces)
        if clauses:
            query += " WHERE " + " AND ".join(clauses)
        # A word in a name counts most, then in port names, types, and the docstring.
        query += " ORDER BY " + ("bm25(search, 10, 1, 4, 2), " if terms else "") + "e.namespace, e.name"
        latest: dict[str, Entry] = {}
        for (document,) in self._db.execute(query, values):
            entry = Entry.from_json(json.loads(document))
            known = latest.get(entry.qualified)
            if known is None or version_key(entry.version) > version_key(known.version):
                latest[entry.qualified] = entry  # dicts keep the first (best) position of each name
        return list(latest.values())

    def versions(self, ref: str) -> list[Entry]:
        namespace, name, version = parse_ref(ref)
        rows = self._db.execute("SELECT document FROM entries WHERE namespace = ? AND name = ?", (namespace, name))
        known = sorted((Entry.from_json(json.loads(row[0])) for row in rows), key=lambda e: version_key(e.version))
        found = [e for e in known if version in (None, e.version)]
        if not found:
            raise NotRegistered(_unknown(namespace, name, version, [e.version for e in known]))
        return found

    def get(self, ref: str) -> Entry:
        return self.versions(ref)[-1]

    def source(self, sha256: str) -> bytes:
        row = self._db.execute("SELECT source FROM sources WHERE sha256 = ?", (sha256,)).fetchone()
        if row is None:
            raise NotRegistered(f"no source with sha256 {sha256}")
        stored = row[0]
        return stored.encode() if isinstance(stored, str) else bytes(stored)  # text only if edited by hand

    def remove(self, ref: str) -> list[Entry]:
        with self._writing() as db:
            gone = self.versions(ref)
            for entry in gone:
                (entry_id,) = db.execute(
                    "SELECT id FROM entries WHERE namespace = ? AND name = ? AND version = ?",
                    (entry.namespace, entry.name, entry.version),
                ).fetchone()
                db.execute("DELETE FROM search WHERE rowid = ?", (entry_id,))
                db.execute("DELETE FROM entries WHERE id = ?", (entry_id,))
            db.execute("DELETE FROM sources WHERE sha256 NOT IN (SELECT sha256 FROM entries)")
        return gone


def _words(name: str) -> list[str]:
    """CountWords -> Count, Words; count_words -> count, words: so a search for 'words' finds both."""
    return re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+", name)


def _unknown(namespace: str, name: str, version: str | None, known: list[str]) -> str:
    if version and known:
        listed = ", ".join(known)
        return f"{namespace}.{name} has no version {version!r}; registered versions: {listed}"
    return f"nothing is registered as {namespace}.{name} (try: d4py registry search {name})"
