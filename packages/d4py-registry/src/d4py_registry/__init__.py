"""d4py-registry: PEs and workflows shared as source, found by text and type; workflows exported to CWL."""

from d4py_registry.__about__ import __version__
from d4py_registry.entry import Entry, Port
from d4py_registry.errors import (
    DuplicateVersion,
    HashMismatch,
    NothingToRegister,
    NotRegistered,
    RegistryError,
    RegistryUnreachable,
    Unauthorized,
)
from d4py_registry.loading import load
from d4py_registry.store import Store, open_store

__all__ = [
    "DuplicateVersion",
    "Entry",
    "HashMismatch",
    "NotRegistered",
    "NothingToRegister",
    "Port",
    "RegistryError",
    "RegistryUnreachable",
    "Store",
    "Unauthorized",
    "__version__",
    "load",
    "open_store",
]
