"""Buffers received into an arena: the kernel says which are unwritten, and pages are reused only when free."""

from __future__ import annotations

import gc
import mmap
import os
import pickle
import sys

import pytest

from d4py.backend import BatchOptions
from d4py.hosting import ITEM, Outbox, ReceivedBuffers, SentBuffers, buffer_sizes, decode, encode, pages

np = pytest.importorskip("numpy")
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the arena needs memfd and pagemap")

SIZE = 32768  # float64s: 256 KiB


@pytest.fixture(autouse=True)
def fresh_arena(monkeypatch):
    """Each test starts as a process that has not written a large array twice; its arena is closed after."""
    monkeypatch.setattr(pages, "_arena", None)
    monkeypatch.setattr(pages, "_wanted", False)
    monkeypatch.setattr(pages, "_usable", None)
    yield
    if pages._arena is not None:
        pages._arena.close()


def received(array):
    """``array`` as a process receiving it gets it: unpickled over a buffer the transport read it into."""
    buffers: list[pickle.PickleBuffer] = []
    data = pickle.dumps(array, protocol=5, buffer_callback=buffers.append)
    raws = [buffer.raw() for buffer in buffers]
    return pickle.loads(data, buffers=[pages.receive_buffer(raw.nbytes, raw_filler(raw)) for raw in raws])


def raw_filler(raw):
    def fill(view):
        view[:] = raw

    return fill


def test_buffers_are_bytearrays_until_the_process_writes_a_large_array_again():
    assert type(received(np.ones(SIZE)).base.base.obj) is bytearray
    pages.want_arena()
    assert type(received(np.ones(16)).base) is not pages.Mapped  # small: cheaper to compare than to map
    array = received(np.arange(SIZE, dtype=np.float64))
    assert isinstance(pages._mapped_base(array), pages.Mapped)
    assert np.array_equal(array, np.arange(SIZE)) and array.flags.writeable


def test_the_kernel_tells_a_written_page_from_an_unwritten_one():
    pages.want_arena()
    array = received(np.arange(SIZE, dtype=np.float64))
    assert pages.untouched(array) and pages.untouched(array[: SIZE // 2])
    array[-1] = -1.0  # the last page copied for this process alone
    assert not pages.untouched(array) and pages.untouched(array[: SIZE // 2])
    assert array[-1] == -1.0


def test_a_strided_view_is_never_vouched_for():
    pages.want_arena()
    array = received(np.arange(SIZE, dtype=np.float64))
    array[-2] = -1.0  # a page the view below spans, though the element is not in it
    assert not pages.untouched(array[::2]) and not pages.untouched(array)


def test_only_arena_buffers_are_vouched_for(tmp_path):
    pages.want_arena()
    assert not pages.untouched(np.arange(SIZE, dtype=np.float64))  # the process's own memory
    path = tmp_path / "shared.bin"
    np.arange(SIZE, dtype=np.float64).tofile(path)
    shared = np.memmap(path, dtype=np.float64, mode="r+")  # a file's pages, written in place: never vouched for
    shared[0] = 7.0
    assert not pages.untouched(shared)


def test_pages_are_reused_once_their_buffer_is_gone_and_never_before():
    pages.want_arena()
    first = received(np.full(SIZE, 1.0))
    second = received(np.full(SIZE, 2.0))
    chunk = pages._arena._chunks[-1]
    top = chunk.top
    del second
    gc.collect()
    third = received(np.full(SIZE, 3.0))  # in the pages the second had
    assert chunk.top == top
    assert (first == 1.0).all() and (third == 3.0).all()


def test_an_unchanged_received_array_is_named_and_a_changed_one_sent_as_it_is():
    pages.want_arena()
    options = BatchOptions(batch_items=1, keep_bytes=64 << 20)
    sent_to, carried, items = ReceivedBuffers(), [], []

    def send(batch, sent: SentBuffers) -> None:
        frame, raws = encode(batch, sent)
        carried.append(sum(buffer_sizes(frame)))
        items.extend(message[3] for message in decode(frame, [bytearray(raw) for raw in raws], sent_to))

    outbox = Outbox.framing(send, options)
    spectrum = received(np.full(SIZE, 5.0))
    for _ in range(3):
        outbox.put_item(ITEM, 0, 0, spectrum)
    spectrum[0] = 6.0
    outbox.put_item(ITEM, 0, 0, spectrum)
    assert carried == [spectrum.nbytes, spectrum.nbytes, 0, spectrum.nbytes]
    assert [float(item[0]) for item in items] == [5.0, 5.0, 5.0, 6.0]


def test_a_forked_child_keeps_reading_what_it_inherited():
    pages.want_arena()
    inherited = received(np.full(SIZE, 1.0))
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child's result is its exit status
        os.close(writer)
        os.read(reader, 1)  # the parent has dropped its buffer and filled others meanwhile
        os._exit(0 if (inherited == 1.0).all() else 1)
    os.close(reader)
    del inherited
    gc.collect()
    others = [received(np.full(SIZE, 9.0)) for _ in range(4)]
    received(np.full(SIZE * 2, 9.0))  # a new file, so the old one's free pages would go back to the system
    os.write(writer, b"x")
    os.close(writer)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0 and all((array == 9.0).all() for array in others)


def test_a_buffer_dropped_while_the_arena_is_busy_waits_for_the_next_receive():
    arena = pages.Arena()
    buffer = arena.receive(SIZE * 8, lambda view: None)
    with arena._lock:  # as when garbage collection runs the finalizer inside a receive
        del buffer
        gc.collect()
    assert len(arena._returned) == 1
    again = arena.receive(SIZE * 8, lambda view: None)
    assert not arena._returned and arena._live == 1 and len(again) == SIZE * 8
    arena.close()


def test_mapped_buffers_are_capped_as_each_holds_a_file_descriptor():
    arena = pages.Arena(buffers=2)
    first, _second = arena.receive(SIZE * 8, lambda view: None), arena.receive(SIZE * 8, lambda view: None)
    assert type(arena.receive(SIZE * 8, lambda view: None)) is bytearray
    del first
    gc.collect()
    assert isinstance(arena.receive(SIZE * 8, lambda view: None), mmap.mmap)
    arena.close()


def test_a_forked_child_fills_an_arena_of_its_own():
    pages.want_arena()
    kept = received(np.full(SIZE, 1.0))
    child = os.fork()
    if child == 0:  # pragma: no cover - the child's result is its exit status
        try:
            del kept
            gc.collect()  # the child gives back nothing of its parent's
            fresh = [received(np.full(SIZE, 9.0)) for _ in range(4)]
            os._exit(0 if all((array == 9.0).all() for array in fresh) else 1)
        finally:
            os._exit(2)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert (kept == 1.0).all() and pages.untouched(kept)


def test_a_kernel_that_cannot_tell_gets_bytearrays(monkeypatch):
    monkeypatch.setattr(pages, "_unwritten", lambda start, length: True)  # says nothing was ever written
    pages.want_arena()
    array = received(np.ones(SIZE))
    assert pages._mapped_base(array) is None and pages._usable is False
    assert pages._mapped_base(received(np.ones(SIZE))) is None  # asked once


def test_a_full_arena_gives_bytearrays():
    arena = pages.Arena(limit=pages.CHUNK_BYTES)
    big = arena.receive(pages.CHUNK_BYTES, lambda view: None)
    assert isinstance(big, mmap.mmap)
    assert type(arena.receive(SIZE * 8, lambda view: None)) is bytearray
    arena.close()


def test_a_buffer_larger_than_a_file_gets_one_of_its_own_closed_with_it():
    arena = pages.Arena()
    small = arena.receive(SIZE * 8, lambda view: None)
    large = arena.receive(pages.CHUNK_BYTES + mmap.PAGESIZE, lambda view: None)
    assert len(arena._chunks) == 2
    del large
    gc.collect()
    arena.receive(SIZE * 8, lambda view: None)  # buffers given back are settled on a receive
    assert len(arena._chunks) == 1 and len(small) == SIZE * 8
    arena.close()


def test_out_of_mappings_a_buffer_is_a_copy(monkeypatch):
    def no_mapping(*args, **kwargs):
        raise OSError(12, "Cannot allocate memory")

    arena = pages.Arena()
    monkeypatch.setattr(pages, "Mapped", no_mapping)
    buffer = arena.receive(SIZE * 8, lambda view: view.__setitem__(slice(0, 3), b"abc"))
    assert type(buffer) is bytearray and buffer[:3] == b"abc" and len(buffer) == SIZE * 8
    assert list(arena._returned) == [(arena._chunks[-1], 0, SIZE * 8 // mmap.PAGESIZE)]  # its pages given back
    arena.close()
