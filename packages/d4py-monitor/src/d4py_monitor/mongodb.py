"""The MongoDB store, through pymongo: one document per run, the record's JSON with the run id as ``_id``.

The database is the URL's (``mongodb://host/DATABASE``, ``d4py`` if it
names none), the collection ``runs``. A run's provenance is kept beside it:
``lineage`` (one document per run: level, share, failed calls) and
``item_batches`` (one document per batch of at most ``BATCH_ROWS`` items, as
``ItemBatch.pack`` gives them, with their metadata as ``terms`` to search). A server that does not answer within
``TIMEOUT_MS`` is a :class:`StoreError`, so that a run never waits long
for it. Messages show the URL without its user and password.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, TypeVar

from d4py import UsageError
from d4py_monitor.prov.model import BATCH_ROWS, Failure, ItemBatch, ItemRecord, RunLineage
from d4py_monitor.record import RunRecord, RunSummary
from d4py_monitor.redact import redact_url, scrub
from d4py_monitor.store import StoreError, encode, metadata_text

__all__ = ["COLLECTION", "DEFAULT_DATABASE", "INSTALL", "TIMEOUT_MS", "MongoStore", "check_url"]

TIMEOUT_MS = 2000  # to find the server, connect, and for each reply: a run's end waits this long at most
DEFAULT_DATABASE = "d4py"
COLLECTION = "runs"
INSTALL = "pip install 'd4py-monitor[mongodb]'"
_SUMMARY = {"_id": 1, "workflow.name": 1, "backend": 1, "status": 1, "started": 1, "ended": 1}

T = TypeVar("T")


def check_url(url: str, option: str) -> None:
    """Raise a UsageError naming ``option`` if pymongo is missing or cannot parse ``url``; contacts no server."""
    try:
        from pymongo.errors import PyMongoError
        from pymongo.uri_parser import parse_uri
    except ImportError:
        raise UsageError(f"{option} {redact_url(url)}: the MongoDB store needs pymongo: {INSTALL}") from None
    if url.startswith("mongodb+srv://"):
        return  # parsing it looks the hosts up in DNS: the first save will tell
    try:
        parse_uri(url)
    except (PyMongoError, ValueError) as error:
        raise UsageError(f"{option} {redact_url(url)}: {scrub(str(error), url)}") from None


class MongoStore:
    """Run records in a MongoDB collection; each save replaces the run's document in one write."""

    def __init__(self, url: str) -> None:
        self.location = redact_url(url)
        self._url = url
        try:
            import pymongo
        except ImportError:
            raise StoreError(f"the MongoDB store {self.location} needs pymongo: {INSTALL}") from None
        self._errors = (pymongo.errors.PyMongoError, ValueError)  # pymongo says what is wrong with a URL by either
        self._indexed = False
        self.client: Any = self._call(
            "open",
            lambda: pymongo.MongoClient(
                url,
                serverSelectionTimeoutMS=TIMEOUT_MS,
                connectTimeoutMS=TIMEOUT_MS,
                socketTimeoutMS=TIMEOUT_MS,
                appname="d4py-monitor",
            ),
        )
        database: Any = self.client.get_default_database(DEFAULT_DATABASE)
        self.runs: Any = database[COLLECTION]
        self.lineage: Any = database["lineage"]
        self.batches: Any = database["item_batches"]

    def _call(self, doing: str, action: Callable[[], T]) -> T:
        """``action()``, with pymongo's errors as one-line StoreErrors that show no password."""
        try:
            return action()
        except self._errors as error:
            # pymongo appends its timeouts and the whole topology: the first clause says what went wrong.
            problem = re.split(r" \(configured timeouts|, Timeout: ", str(error))[0]
            raise StoreError(f"cannot {doing} the run store {self.location}: {scrub(problem, self._url)}") from None

    def save(self, run: RunRecord) -> None:
        document = {"_id": run.id, **json.loads(encode(run))}
        if not self._indexed:
            self._call("write", lambda: self.runs.create_index("started"))
            self._indexed = True
        self._call("write", lambda: self.runs.replace_one({"_id": run.id}, document, upsert=True))

    def summaries(self) -> list[RunSummary]:
        found = self._call("read", lambda: list(self.runs.find({}, _SUMMARY).sort("started", -1)))
        return [
            RunSummary(d["_id"], d["workflow"]["name"], d["backend"], d["status"], d["started"], d["ended"])
            for d in found
        ]

    def ids(self, prefix: str) -> list[str]:
        query = {"_id": {"$regex": "^" + re.escape(prefix)}}
        return [d["_id"] for d in self._call("read", lambda: list(self.runs.find(query, {"_id": 1})))]

    def newest(self) -> str | None:
        found = self._call("read", lambda: list(self.runs.find({}, {"_id": 1}).sort("started", -1).limit(1)))
        return str(found[0]["_id"]) if found else None

    def load(self, run_id: str) -> RunRecord:
        document = self._call("read", lambda: self.runs.find_one({"_id": run_id}))
        if document is None:
            raise StoreError(f"no run {run_id!r} in {self.location}")
        del document["_id"]
        return RunRecord.from_json(document)

    def save_lineage(self, lineage: RunLineage) -> None:
        """Replace the run's items, then its lineage document: a reader finds a lineage only once its items are in."""
        run_id = lineage.run_id
        documents = [_batch_document(run_id, piece) for batch in lineage.batches() for piece in batch.split(BATCH_ROWS)]
        summary = {"_id": run_id, "level": lineage.level, "share": lineage.share}
        summary["failures"] = [failure.to_json() for failure in lineage.failures]
        self._call("write", lambda: self.batches.create_index([("run_id", 1), ("low", 1)]))
        self._call("write", lambda: self.batches.create_index([("terms.k", 1), ("terms.v", 1)]))
        self._call("write", lambda: self.lineage.delete_one({"_id": run_id}))
        self._call("write", lambda: self.batches.delete_many({"run_id": run_id}))
        if documents:
            self._call("write", lambda: self.batches.insert_many(documents, ordered=False))
        self._call("write", lambda: self.lineage.replace_one({"_id": run_id}, summary, upsert=True))

    def load_lineage(self, run_id: str) -> RunLineage | None:
        summary = self._call("read", lambda: self.lineage.find_one({"_id": run_id}))
        if summary is None:
            return None
        found = self._call("read", lambda: list(self.batches.find({"run_id": run_id}, {"terms": 0}).sort("low", 1)))
        try:
            batches = [_batch(document) for document in found]
            failures = [Failure.from_json(failure) for failure in summary["failures"]]
        except (KeyError, TypeError, ValueError) as error:
            raise StoreError(f"the provenance of run {run_id} in {self.location} is damaged: {error}") from None
        return RunLineage(run_id, summary["level"], summary["share"], failures=failures, batches=batches)

    def lineage_level(self, run_id: str) -> str | None:
        found = self._call("read", lambda: self.lineage.find_one({"_id": run_id}, {"level": 1}))
        return None if found is None else str(found["level"])

    def search_items(self, key: str, value: str, run_id: str | None = None) -> list[tuple[str, ItemRecord]]:
        query: dict[str, Any] = {"terms": {"$elemMatch": {"k": key, "v": value}}}
        if run_id is not None:
            query["run_id"] = run_id
        found = self._call("read", lambda: list(self.batches.find(query)))
        runs = {d["_id"]: d["started"] for d in self._call("read", lambda: list(self.runs.find({}, {"started": 1})))}
        items: list[tuple[str, ItemRecord]] = []
        try:
            for document in found:
                if document["run_id"] not in runs:
                    continue
                batch = _batch(document)
                for term in document["terms"]:
                    if (term["k"], term["v"]) == (key, value):
                        items.append((document["run_id"], batch.record(batch.rows.ids.index(term["id"]))))
        except (KeyError, TypeError, ValueError) as error:
            raise StoreError(f"the provenance in {self.location} is damaged: {error}") from None
        items.sort(key=lambda found: (runs[found[0]], found[1].id))
        return items

    def close(self) -> None:
        self.client.close()


def _batch_document(run_id: str, batch: ItemBatch) -> dict[str, Any]:
    """One batch of a run's items as a document, its metadata as ``terms`` to search."""
    ids, parents, columns = batch.pack()
    terms = [
        {"k": key, "v": metadata_text(value), "id": batch.rows.ids[row]}
        for row, described in batch.metadata.items()
        for key, value in described.items()
    ]
    low, high = min(batch.rows.ids), max(batch.rows.ids)
    where = {"run_id": run_id, "pe": batch.pe, "instance": batch.instance, "low": low, "high": high}
    return {**where, "ids": ids, "parents": parents, **columns, "terms": terms}


def _batch(document: dict[str, Any]) -> ItemBatch:
    return ItemBatch.unpack(
        document["pe"], document["instance"], bytes(document["ids"]), bytes(document["parents"]), document
    )
