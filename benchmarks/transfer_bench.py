"""One array from one process to another: through a pipe (multi's transport) or a fresh shared-memory file.

The shared-memory way is the one a transport would take without a pool of
recycled segments: the sender creates a file in /dev/shm, sizes it, copies
the array in and sends its name; the receiver maps it, unlinks it and reads
every page. It is what "no copy through the kernel" costs when each array
gets new pages, which both sides must fault in.
"""

from __future__ import annotations

import mmap
import multiprocessing
import os
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

import numpy as np

SIZES = (256 << 10, 1 << 20, 8 << 20)
COUNT = 200


def _read_pipe(connection: Connection, size: int) -> None:
    buffer = bytearray(size)
    for _ in range(COUNT):
        connection.recv_bytes_into(buffer)
    connection.send_bytes(b"done")


def _read_shared(connection: Connection, size: int) -> None:
    for _ in range(COUNT):
        name = connection.recv_bytes().decode()
        descriptor = os.open(name, os.O_RDWR)
        mapped = mmap.mmap(descriptor, size, access=mmap.ACCESS_COPY)
        os.close(descriptor)
        os.unlink(name)
        np.frombuffer(mapped, dtype=np.float64)[:: mmap.PAGESIZE // 8].sum()  # touch every page
        mapped.close()
    connection.send_bytes(b"done")


def _timed(reader: Any, size: int, send: Callable[[Connection, memoryview, int], None]) -> float:
    """Seconds per array: ``send(connection, raw, number)`` COUNT times to a process running ``reader``."""
    sender, receiver = multiprocessing.Pipe()
    process = multiprocessing.Process(target=reader, args=(receiver, size))
    process.start()
    raw = memoryview(np.random.default_rng(0).random(size // 8)).cast("B")
    started = time.perf_counter()
    for number in range(COUNT):
        send(sender, raw, number)
    sender.recv_bytes()
    seconds = time.perf_counter() - started
    process.join()
    return seconds / COUNT


def _send_through_pipe(sender: Connection, raw: memoryview, number: int) -> None:
    sender.send_bytes(raw)


def _send_through_shared_memory(sender: Connection, raw: memoryview, number: int) -> None:
    name = f"/dev/shm/d4py-transfer-bench-{os.getpid()}-{number}"
    descriptor = os.open(name, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    os.ftruncate(descriptor, raw.nbytes)
    mapped = mmap.mmap(descriptor, raw.nbytes)
    os.close(descriptor)
    mapped[:] = raw
    mapped.close()
    sender.send_bytes(name.encode())


def main(repeat: int = 3) -> None:
    print(f"## transfer: one array between two processes, µs each (best of {repeat}, {COUNT} arrays a run)")
    print()
    print("| array | pipe (multi's transport) | a fresh /dev/shm file per array | shm / pipe |")
    print("| ---: | ---: | ---: | ---: |")
    for size in SIZES:
        pipe = min(_timed(_read_pipe, size, _send_through_pipe) for _ in range(repeat))
        shared = min(_timed(_read_shared, size, _send_through_shared_memory) for _ in range(repeat))
        print(f"| {size >> 10} KiB | {pipe * 1e6:.0f} | {shared * 1e6:.0f} | {shared / pipe:.2f} |")
    print()
