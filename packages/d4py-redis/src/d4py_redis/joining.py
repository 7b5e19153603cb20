"""The join file: what a worker on another machine needs to join a running job, and nothing is in Redis.

The driver writes it (``-o join_file=PATH``, mode 0600) when the run starts
and removes it when the run ends. It holds the server's URL, the run's name
and the run's key, so whoever can read it can make this run's workers
unpickle what they like: copy it only as you would a private key.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

from d4py import UsageError

__all__ = ["JoinDetails", "join_file", "read_join_file"]

JoinDetails = tuple[str, str, bytes, str | None]  # url, run, key, CA file (rediss://)


@contextlib.contextmanager
def join_file(path: str | None, details: JoinDetails) -> Iterator[None]:
    """Keep the join file at ``path`` (if given) while the block runs."""
    if path is None:
        yield
        return
    url, run, key, ca_file = details
    target = Path(path)
    try:
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    except OSError as error:
        raise UsageError(
            f"-o join_file={path}: cannot write it ({error.strerror}); give a path in a folder you own"
        ) from None
    with os.fdopen(descriptor, "w") as file:
        json.dump({"url": url, "run": run, "key": key.hex(), "ca_file": ca_file}, file)
    try:
        yield
    finally:
        target.unlink(missing_ok=True)


def read_join_file(path: str) -> JoinDetails:
    """The URL, run and key in a join file; a usage error naming it if it is not one."""
    try:
        found = json.loads(Path(path).read_text())
        return found["url"], found["run"], bytes.fromhex(found["key"]), found.get("ca_file")
    except FileNotFoundError:
        raise UsageError(
            f"join file {path!r} does not exist: the run has ended, or give the path -o join_file wrote"
        ) from None
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise UsageError(f"join file {path!r} is not one d4py wrote ({type(error).__name__}: {error})") from None
