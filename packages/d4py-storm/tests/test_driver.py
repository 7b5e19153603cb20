"""The driver's port: signed batches are taken, anything else drops its connection and the run goes on."""

from __future__ import annotations

import json
import socket

from d4py.hosting import OUTPUT
from d4py_storm.codec import new_key, seal
from d4py_storm.driver import DriverLink

KEY = new_key()


def _receive_until(link: DriverLink, count: int) -> list:
    batches: list = []
    for _ in range(200):  # each receive waits for data, at most 0.1 s
        batches += list(link.receive(0.1))
        if len(batches) >= count:
            break
    return batches


def test_signed_batches_arrive_and_a_forger_is_dropped():
    link = DriverLink(KEY, "127.0.0.1")
    host, port = link.address.split(":")
    try:
        with socket.create_connection((host, int(port))) as forger, socket.create_connection((host, int(port))) as ours:
            forged = seal([(OUTPUT, "pe", "output", "forged")], new_key())
            forger.sendall(json.dumps(forged).encode() + b"\n")
            batch = [(OUTPUT, "pe", "output", ("split", "across", "sends"))]
            line = json.dumps(seal(batch, KEY)).encode() + b"\n"
            ours.sendall(line[:10])
            assert _receive_until(link, 0) == []
            ours.sendall(line[10:])
            assert _receive_until(link, 1) == [batch]
            forger.settimeout(10)
            assert forger.recv(1) == b"", "the forger's connection is still open"
    finally:
        link.close()
