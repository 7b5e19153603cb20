"""``d4py registry serve``: the local store over HTTP, with the standard library.

The server treats what it stores as data: it never imports, runs or
unpickles a source, and checks each source against the sha256 of the entries
sent with it. Reads are open; writes need ``Authorization: Bearer <token>``
matching the token file it was started with, and without one it is
read-only. It binds 127.0.0.1 unless told otherwise.

    GET    /entries?q=TEXT&accepts=TYPE&produces=TYPE   {"entries": [...]}
    GET    /entries/REF                                 the entry (REF: ns.Name[@VERSION])
    GET    /entries/REF/versions                        {"entries": [...]}
    GET    /sources/SHA256                              the module source, as stored
    POST   /entries     {"entries": [...], "source": base64}   (token)
    DELETE /entries/REF                                 (token)
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import logging
import urllib.parse
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from d4py import D4pyError, UsageError
from d4py_registry.entry import Entry
from d4py_registry.errors import DuplicateVersion, NotRegistered, Unauthorized
from d4py_registry.sqlite import SQLiteStore

__all__ = ["RegistryServer"]

logger = logging.getLogger("d4py.registry")

MAX_BODY = 16 * 1024 * 1024  # a module source and its entries; more is not a PE

_STATUS: dict[type[D4pyError], HTTPStatus] = {
    NotRegistered: HTTPStatus.NOT_FOUND,
    DuplicateVersion: HTTPStatus.CONFLICT,
}


class RegistryServer(ThreadingHTTPServer):
    """Serves the store at ``path``; ``token`` (None: read-only) authorises writes."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], path: Path, token: str | None) -> None:
        super().__init__(address, _Handler)
        self.path, self.token = path, token
        SQLiteStore(path).close()  # create the schema once, before any request races to

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"


Answer = tuple[int, bytes, str]  # status, body, content type
Action = Callable[[SQLiteStore, urllib.parse.SplitResult], Answer]


class _Handler(BaseHTTPRequestHandler):
    server: RegistryServer  # HTTP/1.0: one request per connection, so a refused body is never left unread

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        pass  # one line per request on stderr would drown the server's own messages

    def do_GET(self) -> None:
        self._answer(self._read)

    def do_POST(self) -> None:
        self._answer(self._add)

    def do_DELETE(self) -> None:
        self._answer(self._remove)

    def _answer(self, action: Action) -> None:
        store = None
        try:
            url = urllib.parse.urlsplit(self.path)
            store = SQLiteStore(self.server.path)
            status, body, kind = action(store, url)
        except D4pyError as error:
            status = _STATUS.get(type(error), HTTPStatus.BAD_REQUEST)
            body, kind = json.dumps({"error": str(error), "kind": type(error).__name__}).encode(), "application/json"
        except Exception as error:  # a bug or a broken database: say so rather than drop the connection
            logger.exception("registry request %s %s failed", self.command, self.path)
            status, kind = HTTPStatus.INTERNAL_SERVER_ERROR, "application/json"
            body = json.dumps(
                {"error": f"the registry failed: {type(error).__name__}", "kind": "RegistryError"}
            ).encode()
        finally:
            if store is not None:
                store.close()
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Content-Type-Options", "nosniff")  # sources are data, never a page to render
        self.end_headers()
        self.wfile.write(body)

    def _read(self, store: SQLiteStore, url: urllib.parse.SplitResult) -> Answer:
        parts = [urllib.parse.unquote(p) for p in url.path.strip("/").split("/")]
        if parts == ["entries"]:
            query = dict(urllib.parse.parse_qsl(url.query))
            found = store.search(query.get("q", ""), query.get("accepts"), query.get("produces"))
            return _listing(found)
        if len(parts) == 2 and parts[0] == "entries":
            return _json(store.get(parts[1]).to_json())
        if len(parts) == 3 and parts[0] == "entries" and parts[2] == "versions":
            return _listing(store.versions(parts[1]))
        if len(parts) == 2 and parts[0] == "sources":
            return HTTPStatus.OK, store.source(parts[1]), "application/octet-stream"
        raise NotRegistered(f"no such path: {url.path}")

    def _add(self, store: SQLiteStore, url: urllib.parse.SplitResult) -> Answer:
        self._authorise()
        if url.path.rstrip("/") != "/entries":
            raise NotRegistered(f"no such path: {url.path}")
        length = (
            int(self.headers.get("Content-Length") or 0) if self.headers.get("Content-Length", "0").isdigit() else 0
        )
        if not 0 < length <= MAX_BODY:
            raise UsageError(f"a request body of 1 byte to {MAX_BODY} bytes is needed")
        try:
            document = json.loads(self.rfile.read(length))
            entries = [Entry.from_json(e) for e in document["entries"]]
            source = base64.b64decode(document["source"], validate=True)
        except (ValueError, KeyError, TypeError, binascii.Error) as error:
            raise UsageError(f"malformed entries: {type(error).__name__}: {error}") from None
        added = store.add(entries, source)  # refuses entries whose sha256 the source does not have
        return HTTPStatus.CREATED, _listing(added)[1], "application/json"

    def _remove(self, store: SQLiteStore, url: urllib.parse.SplitResult) -> Answer:
        self._authorise()
        parts = [urllib.parse.unquote(p) for p in url.path.strip("/").split("/")]
        if len(parts) != 2 or parts[0] != "entries":
            raise NotRegistered(f"no such path: {url.path}")
        return _listing(store.remove(parts[1]))

    def _authorise(self) -> None:
        if self.server.token is None:
            raise Unauthorized("this registry is read-only: it was started without --token-file")
        given = self.headers.get("Authorization", "")
        expected = f"Bearer {self.server.token}"
        if not hmac.compare_digest(given.encode(), expected.encode()):
            raise Unauthorized("writing to this registry needs its token: set D4PY_REGISTRY_TOKEN or give --token-file")


def _json(document: Any) -> Answer:
    return HTTPStatus.OK, json.dumps(document).encode(), "application/json"


def _listing(entries: list[Entry]) -> Answer:
    return _json({"entries": [e.to_json() for e in entries]})
