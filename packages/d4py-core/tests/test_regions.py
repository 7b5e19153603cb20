"""Large buffers through a sender's region: mapped by the receiver as sent, pages reused only once let go."""

from __future__ import annotations

import gc
import os
import sys

import pytest

from d4py.hosting import pages
from d4py.hosting.regions import INLINE, SMALLEST, Regions

np = pytest.importorskip("numpy")
pytestmark = pytest.mark.skipif(not Regions.possible(), reason="regions need memfd (Linux)")

SIZE = 32768  # float64s: 256 KiB


LEND = 8 << 20  # what a sender lends one receiver of buffers it will not keep


@pytest.fixture
def regions():
    made = Regions(2, lend_limit=LEND, size=64 << 20)
    yield made
    made.close()


def sent(
    regions: Regions, *arrays, to: str = "receiver", kept: bool = False
) -> tuple[int, list[int], list[memoryview]]:
    """What a sender's manifest says for ``arrays`` sent ``to`` a receiver, and what would still go through the pipe."""
    raws = [memoryview(array).cast("B") for array in arrays]
    manifest, inline = regions.place(raws, to, [kept] * len(raws))
    owner, offsets = Regions.manifest(manifest)
    return owner, offsets, inline


def received(regions: Regions, owner: int, offset: int, like):
    return np.frombuffer(regions.receive(owner, offset, like.nbytes), dtype=like.dtype)


def test_a_buffer_arrives_mapped_as_it_was_when_sent(regions):
    regions.attach(1)
    array = np.arange(SIZE, dtype=np.float64)
    owner, [offset], inline = sent(regions, array)
    array[:] = -1  # the sender writes on: what it sent does not change
    got = received(regions, owner, offset, array)
    assert owner == 1 and inline == []
    assert got.tolist() == list(range(SIZE)) and got.flags.writeable
    assert isinstance(pages._mapped_base(got), pages.Mapped)


def test_small_buffers_and_a_process_owning_no_region_go_through_the_pipe(regions):
    small, large = np.ones(16), np.ones(SIZE)
    owner, offsets, inline = sent(regions, small, large)  # no attach(): the driver, a pool's later worker
    assert owner == INLINE and offsets == [INLINE] and len(inline) == 2
    regions.attach(0)
    owner, offsets, inline = sent(regions, small, large)
    assert owner == 0 and offsets[0] != INLINE and [raw.nbytes for raw in inline] == [small.nbytes]
    assert small.nbytes < SMALLEST <= large.nbytes


def test_a_receiver_writing_its_buffer_writes_its_own_pages(regions):
    regions.attach(0)
    owner, [offset], _ = sent(regions, np.zeros(SIZE))
    first = received(regions, owner, offset, np.zeros(SIZE))
    first[:10] = 7
    assert received(regions, owner, offset, np.zeros(SIZE)).sum() == 0  # the region still holds what was sent


def test_pages_are_reused_once_the_receiver_lets_go_and_never_before(regions):
    regions.attach(0)
    _, [first], _ = sent(regions, np.ones(SIZE))
    held = received(regions, 0, first, np.ones(SIZE))
    _, [second], _ = sent(regions, np.full(SIZE, 2.0))
    assert second != first and held.sum() == SIZE  # still mapped: not overwritten
    del held
    gc.collect()
    regions.settle()  # the receiver says so on the sender's return pipe
    _, [third], _ = sent(regions, np.full(SIZE, 3.0))
    assert third == first
    assert received(regions, 0, third, np.ones(SIZE)).tolist() == [3.0] * SIZE


def test_a_full_region_sends_through_the_pipe(regions):
    small = Regions(1, lend_limit=LEND, size=2 * SIZE * 8)
    try:
        small.attach(0)
        _, offsets, inline = sent(small, np.ones(SIZE), np.ones(SIZE), np.full(SIZE, 5.0))
        assert offsets[2] == INLINE and len(inline) == 1 and np.frombuffer(inline[0]).tolist() == [5.0] * SIZE
    finally:
        small.close()


def test_buffers_cross_between_forked_processes_and_outlive_their_sender(regions):
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # the sender: places one array, says where, and leaves
        code = 1
        try:
            regions.attach(1)
            manifest, _ = regions.place([memoryview(np.arange(SIZE, dtype=np.float64)).cast("B")], "parent", [False])
            os.write(write_end, manifest)
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    owner, [offset] = Regions.manifest(os.read(read_end, 64))
    os.close(read_end)
    assert owner == 1
    assert received(regions, owner, offset, np.zeros(SIZE)).tolist() == list(range(SIZE))


def test_buffers_mapped_before_a_fork_are_never_returned(regions):
    regions.attach(0)
    _, [first], _ = sent(regions, np.ones(SIZE))
    held = received(regions, 0, first, np.ones(SIZE))
    child = os.fork()
    if child == 0:  # a PE's child: may read ``held`` through the same pages for as long as it likes
        os._exit(0 if held.sum() == SIZE else 1)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    del held
    gc.collect()
    regions.settle()
    _, [second], _ = sent(regions, np.ones(SIZE))
    assert second != first


def test_a_forked_child_never_sends_from_its_parents_region(regions):
    regions.attach(0)
    child = os.fork()
    if child == 0:
        owner, offsets, _ = sent(regions, np.ones(SIZE))
        os._exit(0 if owner == INLINE and offsets == [INLINE] else 1)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="pagemap is Linux's")
def test_an_unwritten_received_array_is_vouched_for_and_a_written_one_is_not(regions):
    regions.attach(0)
    _, [offset], _ = sent(regions, np.ones(SIZE))
    array = received(regions, 0, offset, np.ones(SIZE))
    assert array.sum() == SIZE and pages.untouched(array)  # read, never written
    array[SIZE // 2] = 2.0
    assert not pages.untouched(array)


def test_out_of_mappings_a_buffer_is_copied_and_its_pages_go_back_at_once(regions):
    regions.attach(0)
    regions.buffers = 0
    _, [first], _ = sent(regions, np.full(SIZE, 4.0))
    buffer = regions.receive(0, first, SIZE * 8)
    assert type(buffer) is bytearray and np.frombuffer(buffer).tolist() == [4.0] * SIZE
    regions.settle()
    _, [second], _ = sent(regions, np.ones(SIZE))
    assert second == first


def test_a_receiver_is_lent_so_much_of_what_it_will_not_keep_and_the_pipe_bounds_the_rest(regions):
    regions.attach(0)
    per_limit = LEND // (SIZE * 8)
    _, offsets, _ = sent(regions, *(np.ones(SIZE) for _ in range(per_limit + 1)))
    assert INLINE not in offsets[:per_limit] and offsets[per_limit] == INLINE  # the pipe now blocks the sender
    _, [other], _ = sent(regions, np.ones(SIZE), to="another receiver")
    _, [kept], _ = sent(regions, np.ones(SIZE), kept=True)  # kept arrays are bounded by what receivers keep
    assert other != INLINE and kept != INLINE
    for offset in offsets[:per_limit]:
        regions.receive(0, offset, SIZE * 8)  # received and dropped at once
    gc.collect()
    regions.settle()
    _, [again], _ = sent(regions, np.ones(SIZE))
    assert again != INLINE


def test_arrays_of_many_sizes_keep_finding_room_once_let_go():
    small = Regions(1, lend_limit=LEND, size=4 * SIZE * 8)
    try:
        small.attach(0)
        for length in range(SIZE // 2, 4 * SIZE, SIZE // 3):  # each size once, each let go at once
            _, [offset], _ = sent(small, np.full(length, 1.0))
            assert offset != INLINE
            assert received(small, 0, offset, np.ones(length)).sum() == length
            gc.collect()
            small.settle()
        _, [whole], _ = sent(small, np.ones(2 * SIZE))
        _, [part], _ = sent(small, np.ones(SIZE // 2))
        assert whole != INLINE and part != INLINE
    finally:
        small.close()


def test_a_process_that_cannot_map_its_region_sends_through_the_pipe(regions, monkeypatch):
    from d4py.hosting import regions as module

    def refused(*args, **kwargs):
        raise OSError(12, "Cannot allocate memory")  # an address-space limit (ulimit -v)

    monkeypatch.setattr(module, "_Sender", refused)
    assert regions.attach(0) is False
    owner, offsets, inline = sent(regions, np.ones(SIZE))
    assert owner == INLINE and offsets == [INLINE] and len(inline) == 1
