"""Batches as signed tuple values: plain data as JSON, the rest as a pickle, nothing opened unsigned."""

from __future__ import annotations

import json

import pytest

from d4py_storm.codec import TamperedBatch, new_key, open_sealed, seal

KEY = new_key()


def test_plain_items_travel_as_json_and_keep_tuples_lists_and_dicts_apart():
    batch = [(0, 1, 2, ("word", [1, 2.5], {"k": (None, True)}, "ζ", 10**30))]
    payload, mac = seal(batch, KEY)
    assert payload.startswith("J") and json.loads(payload[1:]) and len(mac) == 64
    assert open_sealed([payload, mac], KEY) == batch
    assert type(open_sealed([payload, mac], KEY)[0][3][1]) is list


@pytest.mark.parametrize("item", [float("nan"), {1: "int key"}, {"a", "set"}, b"bytes", 1.5j])
def test_items_json_would_change_travel_pickled(item):
    payload, mac = seal([(0, 0, 0, item)], KEY)
    assert payload.startswith("P")
    received = open_sealed([payload, mac], KEY)[0][3]
    assert received == item or (item != item and received != received)  # NaN is not equal to itself


def test_numpy_values_keep_their_types():
    np = pytest.importorskip("numpy")
    batch = [(0, 0, 0, (np.float64(1.5), np.arange(5)))]
    scalar, array = open_sealed(seal(batch, KEY), KEY)[0][3]
    assert type(scalar) is np.float64 and np.array_equal(array, np.arange(5))


@pytest.mark.parametrize(
    "values",
    [
        lambda sealed: [sealed[0], "0" * 64],  # a forged signature
        lambda sealed: seal([(0, 0, 0, 1)], new_key()),  # another run's key
        lambda sealed: [sealed[0][:-1] + "x", sealed[1]],  # a changed payload
        lambda sealed: sealed[:1],  # not a batch at all
        lambda sealed: "a string",
    ],
)
def test_what_is_not_signed_with_the_runs_key_is_refused(values):
    with pytest.raises(TamperedBatch):
        open_sealed(values(seal([(0, 0, 0, b"pickled")], KEY)), KEY)
