"""The dashboard's HTTP server: Python's ThreadingHTTPServer, the static pages, and JSON from the store.

Routes (every one a GET):

- ``/``: the runs list; ``/runs/RUN``: a run's page; ``/compare?a=RUN&b=RUN``: two runs PE by PE;
  ``/runs/RUN/lineage``: a run's outputs and the root inputs each derives from (its provenance);
- ``/static/NAME``: the pages' stylesheet and scripts;
- ``/api/runs`` (``?q=TEXT&workflow=&backend=&status=``), ``/api/runs/RUN``, ``/api/compare?a=RUN&b=RUN``,
  ``/api/runs/RUN/lineage``, ``/api/runs/RUN/lineage/ITEM`` (the items ITEM derives from).

``RUN`` is an id, a prefix of exactly one, or ``last``, as for ``d4py runs``.
The store is opened for each request, so a run saved meanwhile is there on
the next poll, and a store that cannot be read is an error page (500) while
the server goes on. An unknown run is a 404 that says so.
"""

from __future__ import annotations

import json
import logging
import mimetypes
import socket
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from d4py import D4pyError
from d4py_monitor.dashboard.analysis import compare, filter_summaries, summary_json
from d4py_monitor.dashboard.ancestry import ancestry
from d4py_monitor.dashboard.pages import STATIC, error_page, lineage_data, page, run_data, run_page
from d4py_monitor.record import RunRecord
from d4py_monitor.store import Store, StoreError, UnknownRun, find_run

__all__ = ["DashboardServer", "Response", "respond"]

logger = logging.getLogger("d4py_monitor")

#: Opens the store for one request; None when no run was ever recorded.
Stores = Callable[[], "Store | None"]

# The pages load their scripts and styles from here only, and set styles through the DOM: a value from a
# record that got onto a page as markup still could not run.
POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'"


@dataclass
class Response:
    status: int
    content_type: str
    body: bytes

    @classmethod
    def json(cls, document: Any, status: int = 200) -> Response:
        return cls(status, "application/json", json.dumps(document, default=str).encode())

    @classmethod
    def html(cls, text: str, status: int = 200) -> Response:
        return cls(status, "text/html; charset=utf-8", text.encode())


class HTTPError(Exception):
    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status, self.title = status, title


@contextmanager
def _opened(stores: Stores) -> Iterator[Store | None]:
    store = stores()
    try:
        yield store
    finally:
        if store is not None:
            store.close()


def _one(query: dict[str, list[str]], name: str) -> str:
    values = query.get(name, [])
    return values[0] if values else ""


def _load(stores: Stores, location: str, *references: str) -> list[RunRecord]:
    """The runs these references mean, each an id, a prefix of one, or ``last``."""
    with _opened(stores) as store:
        if store is None:
            raise UnknownRun(f"no runs recorded yet in {location}")
        return [store.load(find_run(store, reference)) for reference in references]


def _lineage(stores: Stores, location: str, reference: str) -> dict[str, Any]:
    """What the lineage page of the run ``reference`` means draws; a 404 if it kept no provenance."""
    with _opened(stores) as store:
        if store is None:
            raise UnknownRun(f"no runs recorded yet in {location}")
        run_id = find_run(store, reference)
        run, lineage = store.load(run_id), store.load_lineage(run_id)
    if lineage is None:
        raise HTTPError(
            404, "No provenance", f"run {run_id} kept no provenance; record a run's with d4py run --provenance full"
        )
    return lineage_data(run, lineage)


def _ancestry(stores: Stores, location: str, reference: str, item: str) -> Any:
    """The items ``item`` of run ``reference`` derives from; a 404 if the run or the item is unknown."""
    with _opened(stores) as store:
        if store is None:
            raise UnknownRun(f"no runs recorded yet in {location}")
        run_id = find_run(store, reference)
        lineage = store.load_lineage(run_id)
    if lineage is None:
        raise HTTPError(404, "No provenance", f"run {run_id} kept no provenance; record it with --provenance full")
    if not item.isdigit() or int(item) not in lineage.items:
        raise HTTPError(404, "Unknown item", f"run {run_id} has no item {item}")
    return ancestry(lineage, int(item))


def _runs(stores: Stores, location: str, query: dict[str, list[str]]) -> Any:
    with _opened(stores) as store:
        summaries = store.summaries() if store is not None else []
    chosen = filter_summaries(summaries, *(_one(query, name) for name in ("q", "workflow", "backend", "status")))
    return {
        "store": location,
        "total": len(summaries),
        "runs": [summary_json(s) for s in chosen],
        "choices": {name: sorted({getattr(s, name) for s in summaries}) for name in ("workflow", "backend", "status")},
    }


def _route(stores: Stores, location: str, path: str, query: dict[str, list[str]]) -> Response:
    parts = [unquote(part) for part in path.strip("/").split("/")] if path.strip("/") else []
    match parts:
        case []:
            _runs(stores, location, {})  # a store that cannot be read is an error page, not an empty list
            return Response.html(page("runs.html"))
        case ["compare"]:
            return Response.html(page("compare.html"))
        case ["runs", reference]:
            with _opened(stores) as store:
                if store is None:
                    raise UnknownRun(f"no runs recorded yet in {location}")
                run = store.load(find_run(store, reference))
                kept = store.lineage_level(run.id) is not None
            return Response.html(run_page(run, lineage=kept))
        case ["runs", reference, "lineage"]:
            return Response.html(page("lineage.html", _lineage(stores, location, reference)))
        case ["static", name] if name in _static_names():
            kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
            return Response(200, f"{kind}; charset=utf-8", (STATIC / name).read_bytes())
        case ["api", "runs"]:
            return Response.json(_runs(stores, location, query))
        case ["api", "runs", reference]:
            (run,) = _load(stores, location, reference)
            return Response.json(run_data(run, live=True))
        case ["api", "runs", reference, "lineage"]:
            return Response.json(_lineage(stores, location, reference))
        case ["api", "runs", reference, "lineage", item]:
            return Response.json(_ancestry(stores, location, reference, item))
        case ["api", "compare"]:
            references = [_one(query, "a"), _one(query, "b")]
            if not all(references):
                raise HTTPError(400, "Two runs needed", "compare needs two runs: /compare?a=RUN&b=RUN")
            return Response.json(compare(*_load(stores, location, *references)))
    raise HTTPError(404, "Not found", f"no page {path}: the runs are at /")


def _static_names() -> set[str]:
    return {path.name for path in STATIC.iterdir() if path.suffix in (".css", ".js")}


def respond(stores: Stores, location: str, target: str) -> Response:
    """The response to ``GET target``; an error is a page (or, under /api/, JSON) that says what went wrong."""
    url = urlsplit(target)
    try:
        return _route(stores, location, url.path, parse_qs(url.query))
    except UnknownRun as error:
        status, title, message = 404, "Unknown run", str(error)
    except StoreError as error:
        status, title, message = 500, "The run store cannot be read", str(error)
    except D4pyError as error:
        status, title, message = 500, "Error", str(error)
    except HTTPError as error:
        status, title, message = error.status, error.title, str(error)
    if url.path.startswith("/api/"):
        return Response.json({"error": message}, status)
    return Response.html(error_page(title, message), status)


class Handler(BaseHTTPRequestHandler):
    server: DashboardServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        try:
            response = respond(self.server.stores, self.server.location, self.path)
        except Exception as error:  # a bug in a page must not stop the server
            logger.exception("d4py monitor: %s failed", self.path)
            response = Response.html(error_page("Error", f"{type(error).__name__}: {error}"), 500)
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        if response.content_type.startswith("text/html"):
            self.send_header("Content-Security-Policy", POLICY)
        self.end_headers()
        self.wfile.write(response.body)

    def log_message(self, template: str, *args: Any) -> None:
        logger.debug("d4py monitor: " + template, *args)


class DashboardServer(ThreadingHTTPServer):
    """Serves the dashboard at ``host:port`` (port 0: a free one) from the stores ``stores`` opens."""

    daemon_threads = True

    def __init__(self, host: str, port: int, stores: Stores, location: str) -> None:
        self.stores, self.location = stores, location
        if ":" in host:
            self.address_family = socket.AF_INET6
        super().__init__((host, port), Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # a page closed while it was answered: no matter
            super().handle_error(request, client_address)

    @property
    def url(self) -> str:
        host, port = str(self.server_address[0]), self.server_address[1]
        shown = f"[{host}]" if self.address_family == socket.AF_INET6 else host
        return f"http://{shown}:{port}/"
