"""Arrays leave a process as written, and one written again crosses to a destination once."""

from __future__ import annotations

import gc

import pytest

from d4py.backend import BatchOptions
from d4py.hosting import ITEM, Outbox, ReceivedBuffers, SentBuffers, buffer_sizes, decode, encode

np = pytest.importorskip("numpy")

SPECTRUM = 16385 * 2  # float64s: 256 KiB, as in the xcorr workflow


class Link:
    """One sender's outbox to one receiver, with the bytes each frame carried."""

    def __init__(self, keep_bytes: int = 64 << 20) -> None:
        self.carried: list[int] = []
        self.received = ReceivedBuffers()
        self.items: list[object] = []
        options = BatchOptions(batch_items=1, keep_bytes=keep_bytes)  # a batch per item: every write crosses
        self.outbox = Outbox.framing(self.send, options)

    def send(self, batch, sent: SentBuffers) -> None:
        frame, raws = encode(batch, sent)
        self.carried.append(sum(buffer_sizes(frame)))
        self.items += [message[3] for message in decode(frame, [bytearray(raw) for raw in raws], self.received)]

    def write(self, item: object) -> None:
        self.outbox.put_item(ITEM, 0, 0, item)


def test_an_array_written_again_unchanged_is_kept_then_named():
    link, spectrum = Link(), np.random.default_rng(1).random(SPECTRUM)
    for other in range(4):
        link.write((0, other, spectrum))
    assert link.carried == [spectrum.nbytes, spectrum.nbytes, 0, 0]  # once, once more to keep, then named
    arrays = [item[2] for item in link.items]
    assert all(np.array_equal(array, spectrum) for array in arrays) and arrays[3].flags.writeable
    # Items naming the kept array share it, as items carrying one array share the object on simple.
    assert np.shares_memory(arrays[2], arrays[3]) and not np.shares_memory(arrays[0], arrays[1])
    arrays[3][:] = 0
    assert spectrum.any()  # the sender's array is its own


def test_a_buffer_filled_again_before_its_batch_leaves_arrives_as_it_was_written():
    options = BatchOptions(batch_items=10, flush_ms=3_600_000, keep_bytes=64 << 20)  # flushed by the test only
    batches = []
    outbox = Outbox.framing(lambda batch, sent: batches.append(encode(batch, sent)), options)
    buffer = np.zeros(SPECTRUM)
    for value in range(3):
        buffer[:] = value  # a PE that reuses one buffer for every item it writes
        outbox.put_item(ITEM, 0, 0, buffer)
    outbox.flush()
    ((frame, raws),) = batches
    received = decode(frame, [bytearray(raw) for raw in raws], ReceivedBuffers())
    assert [float(message[3][0]) for message in received] == [0.0, 1.0, 2.0]


def test_a_changed_array_is_sent_again():
    link, spectrum = Link(), np.zeros(SPECTRUM)
    for _ in range(3):
        link.write(spectrum)
    spectrum[7] = 1.0
    for _ in range(3):
        link.write(spectrum)
    size = spectrum.nbytes
    assert link.carried == [size, size, 0, size, size, 0]
    assert [float(item[7]) for item in link.items] == [0.0] * 3 + [1.0] * 3


def test_past_keep_bytes_the_least_recently_written_are_forgotten_at_both_ends():
    link = Link(keep_bytes=8 * SPECTRUM * 8)  # keeps 8 spectra; one waits on probation
    spectra = [np.full(SPECTRUM, float(n)) for n in range(9)]
    for spectrum in spectra:
        link.write(spectrum)
        link.write(spectrum)  # written again: kept
    assert len(link.received.kept) == 8  # the ninth pushed the first out, at both ends
    del link.carried[:]
    link.write(spectra[8])
    link.write(spectra[0])
    assert link.carried == [0, spectra[0].nbytes]
    assert [float(item[0]) for item in link.items[-2:]] == [8.0, 0.0]


def test_an_array_the_pe_dropped_is_forgotten():
    link = Link()
    spectrum = np.ones(SPECTRUM)
    link.write(spectrum)
    link.write(spectrum)
    del spectrum
    gc.collect()
    link.write(np.ones(SPECTRUM))  # may reuse the dropped array's id(): still sent
    assert link.carried[2] == SPECTRUM * 8 and link.received.kept == {}


def test_small_arrays_bytearrays_and_views_are_frozen_but_sent_every_time():
    link = Link()
    small, raw = np.arange(10), bytearray(b"abc")
    strided = np.arange(SPECTRUM * 2)[::2]
    for _ in range(2):
        link.write((small, raw, strided))
    small[0], raw[0] = 99, ord("z")
    assert link.carried == [small.nbytes + strided.nbytes] * 2  # a strided view: a contiguous copy, not kept
    for got_small, got_raw, got_strided in link.items:
        assert got_small[0] == 0 and got_raw == bytearray(b"abc") and np.array_equal(got_strided, strided)


def test_without_a_record_of_what_was_sent_frames_decode_as_before():
    array = np.arange(100_000, dtype=np.float64)
    frame, raws = encode([(ITEM, 0, 0, array)])
    (message,) = decode(frame, [bytearray(raw) for raw in raws])
    assert np.array_equal(message[3], array)


def test_put_item_estimates_the_payload_as_approximate_size_does():
    from d4py.hosting import approximate_size

    items = ["word", b"bytes", 7, None, ("word", 1), [b"ab", np.zeros(4)], np.zeros(10), bytearray(5), (1.5, "x")]
    for item in items:
        outbox = Outbox(lambda batch: None, BatchOptions(batch_items=100))
        outbox.put_item(ITEM, 0, 0, item)
        assert outbox.size == approximate_size(item), item


def test_a_batch_is_cut_on_the_bytes_that_travel():
    sent: list[int] = []
    options = BatchOptions(batch_items=1000, batch_bytes=3 * SPECTRUM * 8, flush_ms=3_600_000, keep_bytes=64 << 20)
    outbox = Outbox.framing(lambda batch, kept: sent.append(len(batch)) or encode(batch, kept), options)
    spectra = [np.full(SPECTRUM, float(n)) for n in range(4)]
    for _ in range(2):
        outbox.put_item(ITEM, 0, 0, (0, spectra[0]))
        outbox.flush()  # the second time, the destination keeps spectrum 0
    for n in range(1, 4):
        outbox.put_item(ITEM, 0, 0, (n, spectra[0], spectra[n]))
    assert sent == [1, 1, 3]  # spectrum 0 named in each, so three pairs fill a batch, not one and a half


def test_arrays_written_once_are_never_kept_by_the_destination():
    link = Link(keep_bytes=8 * SPECTRUM * 8)
    for n in range(20):
        link.write(np.full(SPECTRUM, float(n)))
    assert link.carried == [SPECTRUM * 8] * 20 and link.received.kept == {}
    assert [float(item[0]) for item in link.items] == [float(n) for n in range(20)]


def test_a_frame_of_another_layout_is_refused_with_a_reason():
    frame, raws = encode([(ITEM, 0, 0, "an item")])
    assert decode(frame, [bytearray(raw) for raw in raws]) == [(ITEM, 0, 0, "an item")]
    older = b"\x00" * 3 + frame[3:]  # as a frame without the version mark would start
    with pytest.raises(ValueError, match="not a d4py batch frame of version"):
        decode(older, [])
