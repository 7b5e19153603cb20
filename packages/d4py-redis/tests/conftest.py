"""A redis-server of the tests' own (for ``-o url=...`` and the store), started here and stopped by its pid;
and what a test left running."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis

PASSWORD = "not-in-any-log-4d1f"


@pytest.fixture
def server_url(tmp_path: Path) -> Iterator[str]:
    """The URL, password included, of a redis-server on a unix socket in this test's folder."""
    socket = tmp_path / "redis.sock"
    server = subprocess.Popen(
        [
            *("redis-server", "--port", "0", "--unixsocket", str(socket), "--unixsocketperm", "700"),
            *("--save", "", "--appendonly", "no", "--requirepass", PASSWORD, "--dir", str(tmp_path)),
        ],
        stdout=subprocess.DEVNULL,
    )
    url = f"unix://:{PASSWORD}@{socket}"
    client = redis.Redis.from_url(url, socket_timeout=5)
    deadline = time.monotonic() + 10
    while True:  # wait for the socket: polled, bounded
        try:
            client.ping()
            break
        except (redis.ConnectionError, FileNotFoundError):
            assert server.poll() is None and time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.01)
    try:
        yield url
    finally:
        client.close()
        server.terminate()
        server.wait(timeout=10)


def _children() -> set[int]:
    """Live (not zombie) processes whose parent is this test process: a run's server and forked workers."""
    mine, found = str(os.getpid()), set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                state, parent = (entry / "stat").read_text().rsplit(")", 1)[1].split()[:2]
            except OSError:
                continue
            if parent == mine and state != "Z":
                found.add(int(entry.name))
    return found


@pytest.fixture
def leftovers() -> Callable[[], set[int]]:
    """A function giving the processes this test started that still run (taken after the fixtures before it)."""
    before = _children()
    return lambda: _children() - before
