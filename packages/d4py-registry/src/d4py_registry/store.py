"""The store interface, and how a command picks one: the local SQLite file or a remote registry."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Protocol

from d4py_registry.entry import Entry

__all__ = ["REGISTRY_VARIABLE", "Store", "open_store"]

#: The registry commands and ``load`` use when not told otherwise: a URL, or unset for the local store.
REGISTRY_VARIABLE = "D4PY_REGISTRY"


class Store(Protocol):
    """What both the local store and a remote registry offer. Refs are ``ns.Name[@VERSION]``."""

    def add(self, entries: Sequence[Entry], source: bytes) -> list[Entry]:
        """Store ``entries`` and their module ``source`` together, or nothing if any is refused."""
        ...

    def search(self, text: str = "", accepts: str | None = None, produces: str | None = None) -> list[Entry]:
        """The latest matching version of each name, best text matches first."""
        ...

    def versions(self, ref: str) -> list[Entry]:
        """Every version of a name, oldest first."""
        ...

    def get(self, ref: str) -> Entry:
        """One version (the latest when the ref gives none)."""
        ...

    def source(self, sha256: str) -> bytes:
        """The module source stored under ``sha256``, as stored (the caller checks it)."""
        ...

    def remove(self, ref: str) -> list[Entry]:
        """Remove one version, or every version when the ref gives none; return what was removed."""
        ...


def open_store(registry: str | None = None, token: str | None = None) -> Store:
    """The remote registry at URL ``registry`` (or ``$D4PY_REGISTRY``), else the local store under D4PY_HOME."""
    url = registry or os.environ.get(REGISTRY_VARIABLE)
    if url:
        from d4py_registry.remote import RemoteStore

        return RemoteStore(url, token)
    from d4py_registry.sqlite import SQLiteStore

    return SQLiteStore()
