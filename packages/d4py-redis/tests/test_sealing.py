"""Nothing read from Redis is unpickled unless this run's key signed it for that stream."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest
import redis
from d4py_redis.sealing import SealError
from d4py_redis.store import RunStore

from d4py.hosting import ITEM


class _Trap:
    """Unpickling this creates a file: the proof that a pickle was loaded."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[object, tuple[str, int]]:
        return os.open, (str(self.path), os.O_CREAT | os.O_WRONLY)


def test_an_entry_signed_with_another_key_is_refused_unread(server_url: str, tmp_path: Path) -> None:
    client = redis.Redis.from_url(server_url, socket_timeout=5)
    ours, theirs = RunStore(client, "run", b"o" * 32), RunStore(client, "run", b"t" * 32)
    inbox, trap = ours.inbox(0), tmp_path / "unpickled"
    _, _, blob, signature = theirs.output(inbox, [(ITEM, 0, 0, _Trap(trap))])
    client.xadd(inbox, {"d": blob, "s": signature})
    client.xadd(inbox, {"d": pickle.dumps(_Trap(trap))})  # no signature at all
    ((_, entries),) = ours.take({inbox: b"0-0"}, None)
    for _, fields in entries:
        with pytest.raises(SealError, match=r"not (signed with this run's key|one of this run's)"):
            ours.read(inbox, fields)
    assert not trap.exists()


def test_a_signed_entry_copied_to_another_stream_is_refused(server_url: str) -> None:
    client = redis.Redis.from_url(server_url, socket_timeout=5)
    store = RunStore(client, "run", b"k" * 32)
    _, _, blob, signature = store.output(store.inbox(0), [(ITEM, 0, 0, "for inbox 0")])
    client.xadd(store.inbox(1), {"d": blob, "s": signature})
    ((_, [(_, fields)]),) = store.take({store.inbox(1): b"0-0"}, None)
    with pytest.raises(SealError):
        store.read(store.inbox(1), fields)
    assert store.read(store.inbox(0), fields) == [(ITEM, 0, 0, "for inbox 0")]
