"""Load a registered PE, function or workflow: its source, checked against its sha256, imported as a module.

The module is written once per content hash under ``$D4PY_HOME/registry/modules``
and imported through d4py's own loader, so worker processes of parallel
backends import the same file by the same name (nothing is ever unpickled
from the registry). Loading runs the stored code, as importing any module
does: load what you would install.
"""

from __future__ import annotations

import os
import sys
import tempfile
from types import ModuleType
from typing import Any

from d4py.home import d4py_home
from d4py.loader import load_module
from d4py_registry.entry import Entry, sha256_of
from d4py_registry.errors import HashMismatch
from d4py_registry.store import Store, open_store

__all__ = ["fetch_source", "load"]


def load(
    ref: str, version: str | None = None, *, registry: str | Store | None = None, sha256: str | None = None
) -> Any:
    """Return the PE class, function or workflow graph registered as ``ns.Name`` (``@VERSION`` or ``version``).

    ``registry`` is a URL, a store, or None for ``$D4PY_REGISTRY`` or the
    local store. Give ``sha256`` to pin the exact source you reviewed.
    """
    store = registry if registry is not None and not isinstance(registry, str) else open_store(registry)
    entry = store.get(f"{ref}@{version}" if version else ref)
    if sha256 is not None and sha256 != entry.sha256:
        raise HashMismatch(f"{entry.ref} has sha256 {entry.sha256}, not the {sha256} asked for")
    module = _import(entry, fetch_source(store, entry))
    return getattr(module, entry.name)


def fetch_source(store: Store, entry: Entry) -> bytes:
    """The entry's module source, refused unless it still hashes to the sha256 recorded when it was added."""
    source = store.source(entry.sha256)
    if sha256_of(source) != entry.sha256:
        raise HashMismatch(f"the stored source of {entry.ref} does not match its sha256 {entry.sha256}; not loading it")
    return source


def _import(entry: Entry, source: bytes) -> ModuleType:
    # One file per content: the same source loads once per process, and two versions never collide.
    name = f"d4py_registry_{entry.sha256[:20]}"
    path = d4py_home() / "registry" / "modules" / f"{name}.py"
    loaded = sys.modules.get(name)
    if loaded is not None and getattr(loaded, "__file__", None) == str(path.resolve()):
        return loaded
    if not path.is_file() or path.read_bytes() != source:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written aside and renamed, so a concurrent load never imports half a file.
        handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".part")
        with os.fdopen(handle, "wb") as file:
            file.write(source)
        os.replace(temporary, path)
    return load_module(str(path))
