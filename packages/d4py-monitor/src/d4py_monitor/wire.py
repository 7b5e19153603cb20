"""How records travel to a collector: its address, the shared key, and signed JSON messages.

A message is three ZeroMQ frames: ``PROTOCOL``, the record as JSON, and
the HMAC-SHA256 of both under the key the runs and the collector share. A
collector stores only messages signed with its key, and never unpickles or
executes anything it receives. Messages are signed, not encrypted.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
from pathlib import Path
from typing import Any

from d4py import UsageError
from d4py.home import d4py_home
from d4py_monitor.record import RunRecord
from d4py_monitor.store import encode

__all__ = [
    "INSTALL",
    "KEY_VARIABLE",
    "PROTOCOL",
    "BadMessage",
    "check_address",
    "key_file",
    "make_key",
    "monitor_key",
    "sign",
    "verify",
]

KEY_VARIABLE = "D4PY_MONITOR_KEY"  # the shared key itself; else the key file in $D4PY_HOME
PROTOCOL = b"d4py-monitor/1"
INSTALL = "pip install 'd4py-monitor[collector]'"
MIN_KEY_LENGTH = 16
_TCP = re.compile(r"tcp://(?P<host>\[[0-9a-fA-F:.]+\]|[^:/\[\]]+):(?P<port>\*|\d+)")


class BadMessage(ValueError):
    """A message a collector drops: not signed with its key, or not a record."""


def check_address(address: str, option: str, listen: bool = False) -> str:
    """``address`` if it is ``tcp://HOST:PORT`` or ``ipc://PATH`` and pyzmq is installed, else a UsageError.

    To ``listen``, the port may be ``*`` or 0: any free one.
    """
    match = _TCP.fullmatch(address)
    if match:
        port = match["port"]
        valid = listen if port == "*" else (0 if listen else 1) <= int(port) <= 65535
    else:
        valid = address.startswith("ipc://") and len(address) > len("ipc://")
    if not valid:
        where = "tcp://HOST:PORT (port * or 0: any free one)" if listen else "tcp://HOST:PORT"
        raise UsageError(f"{option} {address!r}: not a collector address; give {where} or ipc://PATH")
    try:
        import zmq  # noqa: F401
    except ImportError:
        raise UsageError(f"{option} {address}: the collector needs pyzmq: {INSTALL}") from None
    return address


def key_file() -> Path:
    """``monitor.key`` in ``$D4PY_HOME``: the key, when ``$D4PY_MONITOR_KEY`` is not set."""
    return d4py_home() / "monitor.key"


def monitor_key() -> bytes:
    """The shared key: ``$D4PY_MONITOR_KEY``, else the key file; a UsageError saying how to set one if neither."""
    text = os.environ.get(KEY_VARIABLE)
    where = KEY_VARIABLE
    if text is None:
        path = where = str(key_file())
        try:
            text = key_file().read_text()
        except FileNotFoundError:
            raise UsageError(
                f"no monitor key: set {KEY_VARIABLE}, or copy the collector's {key_file().name} to {path} "
                "(d4py monitor collect makes one)"
            ) from None
        except OSError as error:
            raise UsageError(f"cannot read the monitor key {path}: {error.strerror}") from None
    key = text.strip().encode()
    if len(key) < MIN_KEY_LENGTH:
        raise UsageError(f"the monitor key in {where} is too short: give at least {MIN_KEY_LENGTH} characters")
    return key


def make_key() -> Path | None:
    """Make a random key file readable by its owner only, unless a key is set; return it if made."""
    if KEY_VARIABLE in os.environ or key_file().exists():
        return None
    path = key_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(secrets.token_hex(32) + "\n")
    return path


def sign(run: RunRecord, key: bytes) -> list[bytes]:
    """The frames of a message carrying ``run``."""
    payload = encode(run).encode()
    return [PROTOCOL, payload, _mac(key, payload)]


def verify(frames: list[bytes], key: bytes) -> RunRecord:
    """The record a message carries, if it is signed with ``key``; else :class:`BadMessage`."""
    if len(frames) != 3 or frames[0] != PROTOCOL:
        raise BadMessage("not a d4py-monitor message of this release")
    if not hmac.compare_digest(frames[2], _mac(key, frames[1])):
        raise BadMessage("bad signature: not signed with this collector's key")
    try:
        document: Any = json.loads(frames[1])
        return RunRecord.from_json(document)
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        raise BadMessage(f"not a run record: {type(error).__name__}: {error}") from None


def _mac(key: bytes, payload: bytes) -> bytes:
    return hmac.new(key, PROTOCOL + b"\0" + payload, hashlib.sha256).digest()
