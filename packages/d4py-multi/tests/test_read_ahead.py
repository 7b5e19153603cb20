"""A worker's mailbox is read ahead by a thread, in order, up to a bound, and a broken pipe reaches the worker."""

from __future__ import annotations

import multiprocessing

import pytest

from d4py_multi.mailbox import Mailbox, ReadAhead

np = pytest.importorskip("numpy")


def _mailbox() -> Mailbox:
    return Mailbox(multiprocessing.get_context("fork"))


def test_batches_arrive_whole_and_in_order_with_their_arrays():
    mailbox = _mailbox()
    inbox = ReadAhead(mailbox, limit=1 << 20)
    for number in range(5):
        mailbox.send([("item", number, np.full(1000, number))])
    for number in range(5):
        [(kind, received, array)] = inbox.receive()
        assert (kind, received) == ("item", number)
        assert array.tolist() == [number] * 1000 and array.flags.writeable


def test_past_its_limit_the_thread_stops_reading_so_writers_feel_backpressure():
    mailbox = _mailbox()
    inbox = ReadAhead(mailbox, limit=0)  # hold one batch at most
    for number in range(3):
        mailbox.send([number])
    assert inbox.receive() == [0]
    # The thread may now hold batch 1, but not read batch 2 before batch 1 is taken.
    assert mailbox.ready()
    assert inbox.receive() == [1]
    assert inbox.receive() == [2]


def test_a_broken_pipe_is_raised_in_the_worker_not_lost_on_the_thread():
    mailbox = _mailbox()
    inbox = ReadAhead(mailbox, limit=1 << 20)
    mailbox.send(["last"])
    mailbox.writer.close()
    assert inbox.receive() == ["last"]
    with pytest.raises(EOFError):
        inbox.receive()
