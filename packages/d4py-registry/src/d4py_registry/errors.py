"""Every error the registry raises on purpose; each is a ``d4py.D4pyError`` printed as one line.

RegistryError (exit 1)
├── NotRegistered       an unknown name or version (exit 2)
├── DuplicateVersion    a name and version already registered (exit 2)
├── NothingToRegister   a file or module holding no PE and no workflow (exit 2)
├── HashMismatch        stored source that no longer matches its sha256
├── Unauthorized        a write to a remote registry without a valid token (exit 2)
└── RegistryUnreachable a remote registry that does not answer
"""

from __future__ import annotations

from d4py import D4pyError

__all__ = [
    "DuplicateVersion",
    "HashMismatch",
    "NotRegistered",
    "NothingToRegister",
    "RegistryError",
    "RegistryUnreachable",
    "Unauthorized",
]


class RegistryError(D4pyError):
    """Base class of the registry's errors."""


class NotRegistered(RegistryError):
    """No entry has that name, or not that version."""

    exit_code = 2


class DuplicateVersion(RegistryError):
    """A name and version that is already registered; versions are immutable."""

    exit_code = 2


class NothingToRegister(RegistryError):
    """A file or module in which no PE and no workflow was found."""

    exit_code = 2


class HashMismatch(RegistryError):
    """Stored source whose sha256 differs from the one recorded when it was added."""


class Unauthorized(RegistryError):
    """A write to a remote registry without a token it accepts."""

    exit_code = 2


class RegistryUnreachable(RegistryError):
    """A remote registry that cannot be reached or answers nonsense."""
