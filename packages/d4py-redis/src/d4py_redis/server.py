"""A private Redis server for one run: Debian's ``redis-server`` on a unix socket in a folder only we can enter.

It listens on no TCP port (``--port 0``), keeps nothing on disk, and is
stopped by its pid when the run ends, whatever happened; on Linux the kernel
kills it if the driver dies first.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import redis

from d4py import RunFailed
from d4py.hosting import die_with_parent

__all__ = ["private_server"]

_START_SECONDS = 10.0


@contextlib.contextmanager
def private_server(command: str) -> Iterator[str]:
    """Run a private server while the block runs; yields its ``unix://`` URL."""
    folder = Path(tempfile.mkdtemp(prefix="d4py-redis-"))  # mode 0700: only this user reaches the socket
    socket = folder / "redis.sock"
    arguments = [
        *(command, "--port", "0", "--unixsocket", str(socket), "--unixsocketperm", "700"),
        *("--save", "", "--appendonly", "no", "--dir", str(folder), "--daemonize", "no"),
        *("--loglevel", "warning", "--logfile", str(folder / "redis.log")),
    ]
    try:
        server = subprocess.Popen(arguments, stdin=subprocess.DEVNULL, preexec_fn=die_with_parent)
    except OSError as error:
        shutil.rmtree(folder, ignore_errors=True)
        raise RunFailed(f"could not start the private Redis server {command!r}: {error}") from None
    try:
        url = f"unix://{socket}"
        _wait_ready(server, url, folder / "redis.log")
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=5)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        shutil.rmtree(folder, ignore_errors=True)


def _wait_ready(server: subprocess.Popen[bytes], url: str, log: Path) -> None:
    """Return once the server answers PING; fail if it exits or stays silent for ten seconds."""
    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    deadline = time.monotonic() + _START_SECONDS
    try:
        while True:
            if server.poll() is not None:
                said = log.read_text(errors="replace").strip().splitlines()[-1:] if log.exists() else []
                raise RunFailed(f"the private Redis server exited (code {server.returncode}): {' '.join(said)}")
            with contextlib.suppress(redis.ConnectionError, redis.TimeoutError, FileNotFoundError):
                if os.path.exists(url[len("unix://") :]) and client.ping():
                    return
            if time.monotonic() > deadline:
                raise RunFailed(f"the private Redis server did not answer within {_START_SECONDS:.0f} s")
            time.sleep(0.01)  # the server is starting: a short wait, bounded by the deadline above
    finally:
        client.close()
