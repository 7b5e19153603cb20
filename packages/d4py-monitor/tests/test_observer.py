"""The observer: counts and times from activity batches, shared out over the seconds they cover."""

from __future__ import annotations

import pytest

from d4py.observe import Activity
from d4py.runtime import InstanceInfo
from d4py_monitor.observer import InstanceObserver, InstanceReport, spread


def test_a_batch_within_one_second_goes_to_that_second():
    seconds: dict[int, list[float]] = {}
    spread(100.2, 100.7, Activity(reads={"input": 7}, writes={"output": 3}, busy=0.4), seconds)
    assert seconds == {100: [7, 3, pytest.approx(0.4), 0.0, 0.0]}


def test_a_long_batch_is_shared_out_in_proportion_and_counts_stay_whole():
    seconds: dict[int, list[float]] = {}
    spread(10.5, 13.5, Activity(reads={"a": 10, "b": 1}, idle=3.0), seconds)
    assert sorted(seconds) == [10, 11, 12, 13]
    assert [share[3] for share in seconds.values()] == pytest.approx([0.5, 1.0, 1.0, 0.5])
    assert sum(share[0] for share in seconds.values()) == 11
    assert all(float(share[0]).is_integer() for share in seconds.values())


def test_an_empty_batch_adds_no_second():
    seconds: dict[int, list[float]] = {}
    spread(1.0, 5.0, Activity(), seconds)
    assert seconds == {}


def test_reports_carry_what_changed_and_the_final_one_always_comes():
    observer = InstanceObserver(InstanceInfo("P0", 1, 2))
    assert observer.wants_items is False
    observer.observe(Activity(reads={"input": 4}, writes={"output": 4}, busy=0.01))
    first = observer.report(final=True)
    assert isinstance(first, InstanceReport)
    assert (first.pe, first.index, first.reads, first.writes) == ("P0", 1, {"input": 4}, {"output": 4})
    assert sum(share[0] for share in first.seconds.values()) == 4
    last = observer.report(final=True)  # nothing new since: an empty report, still sent
    assert last is not None and last.reads == {} and last.seconds == {}
    assert observer.report(final=False) is None
