"""A remote registry (``d4py registry serve``) used as a store, over HTTP with the standard library.

The client checks what it receives as the local store does: ``load`` hashes
the source itself, so a server cannot hand over code other than what the
entry's sha256 names.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from typing import Any

from d4py_registry import errors
from d4py_registry.entry import Entry

__all__ = ["TOKEN_VARIABLE", "RemoteStore", "error_for"]

#: Where a client finds its write token when no --token-file is given.
TOKEN_VARIABLE = "D4PY_REGISTRY_TOKEN"

# The errors a server may name in its answers; anything else becomes RegistryError.
_KNOWN: dict[str, type[errors.RegistryError]] = {
    cls.__name__: cls
    for cls in (
        errors.NotRegistered,
        errors.DuplicateVersion,
        errors.HashMismatch,
        errors.Unauthorized,
        errors.NothingToRegister,
    )
}


def error_for(kind: str, message: str) -> errors.RegistryError:
    return _KNOWN.get(kind, errors.RegistryError)(message)


class RemoteStore:
    """The store a ``d4py registry serve`` at ``url`` offers; ``token`` authorises writes."""

    def __init__(self, url: str, token: str | None = None, timeout: float = 30) -> None:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise errors.RegistryUnreachable(f"--registry {url!r}: give an http:// or https:// URL")
        self.url, self.token, self.timeout = url.rstrip("/"), token, timeout

    def add(self, entries: Sequence[Entry], source: bytes) -> list[Entry]:
        body = {"entries": [e.to_json() for e in entries], "source": base64.b64encode(source).decode()}
        return _entries(self._json("POST", "/entries", body))

    def search(self, text: str = "", accepts: str | None = None, produces: str | None = None) -> list[Entry]:
        query = {k: v for k, v in (("q", text), ("accepts", accepts), ("produces", produces)) if v}
        return _entries(self._json("GET", "/entries?" + urllib.parse.urlencode(query)))

    def versions(self, ref: str) -> list[Entry]:
        return _entries(self._json("GET", f"/entries/{_quoted(ref)}/versions"))

    def get(self, ref: str) -> Entry:
        return Entry.from_json(self._json("GET", f"/entries/{_quoted(ref)}"))

    def source(self, sha256: str) -> bytes:
        return self._call("GET", f"/sources/{_quoted(sha256)}")

    def remove(self, ref: str) -> list[Entry]:
        return _entries(self._json("DELETE", f"/entries/{_quoted(ref)}"))

    def _json(self, method: str, path: str, body: Any = None) -> Any:
        try:
            return json.loads(self._call(method, path, body))
        except ValueError:
            raise errors.RegistryUnreachable(f"registry {self.url} answered {method} {path} with no JSON") from None

    def _call(self, method: str, path: str, body: Any = None) -> bytes:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                content: bytes = answer.read()
                return content
        except urllib.error.HTTPError as failure:
            raise _refusal(failure) from None
        except (urllib.error.URLError, OSError) as failure:
            reason = getattr(failure, "reason", failure)
            raise errors.RegistryUnreachable(f"cannot reach the registry at {self.url}: {reason}") from None


def _refusal(failure: urllib.error.HTTPError) -> errors.RegistryError:
    try:
        answer = json.loads(failure.read())
        return error_for(str(answer["kind"]), str(answer["error"]))
    except (ValueError, KeyError, TypeError):
        return errors.RegistryError(f"the registry answered {failure.code} {failure.reason}")


def _entries(document: Any) -> list[Entry]:
    return [Entry.from_json(e) for e in document["entries"]]


def _quoted(part: str) -> str:
    return urllib.parse.quote(part, safe="")
