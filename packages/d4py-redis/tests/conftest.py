"""A redis-server of the tests' own (for ``-o url=...`` and the store), started here and stopped by its pid."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
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
