"""One array from one process to another: multi's mailbox with and without regions, and a fresh shm file.

"Pipe" and "region" are multi's own transport (``d4py_multi.mailbox``): a
batch holding one array, framed and sent to a forked reader, which unpickles
it, reads every page and drops it. Without regions the array's bytes go
through the pipe (two copies in the kernel); with them
(``d4py.hosting.regions``) the sender copies it into reused pages of its
memory file and the reader maps them. The third way is what shared memory
costs without reused pages: the sender creates a file in /dev/shm, sizes it,
copies the array in and sends its name; the reader maps it, unlinks it and
reads every page.
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

from d4py.hosting.regions import Regions
from d4py_multi.backend import MultiOptions
from d4py_multi.mailbox import Mailbox, lend_limit

SIZES = (256 << 10, 1 << 20, 8 << 20)
COUNT = 200


def _read_mailbox(connection: Connection, size: int, mailbox: Mailbox) -> None:
    for _ in range(COUNT):
        [(array,)] = mailbox.receive()
        array[:: mmap.PAGESIZE // 8].sum()  # touch every page
        del array
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


def _timed(reader: Any, size: int, send: Callable[[Connection, memoryview, int], None], *extra: Any) -> float:
    """Seconds per array: ``send(connection, raw, number)`` COUNT times to a forked process running ``reader``."""
    context = multiprocessing.get_context("fork")
    sender, receiver = context.Pipe()
    process = context.Process(target=reader, args=(receiver, size, *extra))
    process.start()
    raw = memoryview(np.random.default_rng(0).random(size // 8)).cast("B")
    started = time.perf_counter()
    for number in range(COUNT):
        send(sender, raw, number)
    sender.recv_bytes()
    seconds = time.perf_counter() - started
    process.join()
    return seconds / COUNT


def _through_mailbox(size: int, regions: bool) -> float:
    """Seconds per array through multi's mailbox, its regions on or off, as in a run with default options."""
    context = multiprocessing.get_context("fork")
    shared = Regions(1, lend_limit=lend_limit(MultiOptions())) if regions else None
    mailbox = Mailbox(context, regions=shared)
    try:
        if shared is not None:
            shared.attach(0)
        array = np.random.default_rng(0).random(size // 8)
        return _timed(_read_mailbox, size, lambda connection, raw, number: mailbox.send([(array,)]), mailbox)
    finally:
        mailbox.close()
        if shared is not None:
            shared.close()


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
    print("| array | multi, pipe | multi, region | region / pipe | a fresh /dev/shm file per array | fresh / pipe |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    for size in SIZES:
        pipe = min(_through_mailbox(size, regions=False) for _ in range(repeat))
        region = min(_through_mailbox(size, regions=True) for _ in range(repeat))
        fresh = min(_timed(_read_shared, size, _send_through_shared_memory) for _ in range(repeat))
        print(
            f"| {size >> 10} KiB | {pipe * 1e6:.0f} | {region * 1e6:.0f} | {region / pipe:.2f} "
            f"| {fresh * 1e6:.0f} | {fresh / pipe:.2f} |"
        )
    print()


if __name__ == "__main__":
    main(repeat=int(os.environ.get("BENCH_REPEAT", "3")))
