"""Groupings and the stable key digest."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from d4py import GraphError, group_by, stable_digest
from d4py.groupings import ALL, GLOBAL, SHUFFLE, parse_grouping

KEYS = ["alpha", "ζeta", "", 7, -3, 2.5, 3.0, (1, "a"), b"raw", None, True]


def test_every_spelling_parses():
    assert parse_grouping(None) is SHUFFLE
    assert parse_grouping("all") is ALL and parse_grouping("one_to_all") is ALL
    assert parse_grouping("global") is GLOBAL and parse_grouping("all_to_one") is GLOBAL
    assert parse_grouping([0, 2]).fields == (0, 2)
    assert parse_grouping(["word"]).key({"word": "x"}) == "x"
    assert parse_grouping(len).key("abc") == 3


def test_unknown_spelling_is_a_clear_error():
    with pytest.raises(GraphError, match="unknown grouping 'everyone'"):
        parse_grouping("everyone")
    with pytest.raises(GraphError):
        group_by()


def test_digest_is_the_same_in_every_interpreter():
    code = f"from d4py import stable_digest; print([stable_digest(k) for k in {KEYS!r}])"
    outputs = set()
    for seed in ("0", "1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        outputs.add(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True).stdout)
    assert len(outputs) == 1
    assert outputs.pop().strip() == str([stable_digest(k) for k in KEYS])


def test_digest_follows_equality_of_numbers_and_separates_structure():
    assert stable_digest(3) == stable_digest(3.0)
    assert stable_digest(("ab",)) != stable_digest(("a", "b"))
    assert stable_digest([1, 2]) == stable_digest((1, 2))


def test_numpy_scalars_route_like_python_numbers():
    np = pytest.importorskip("numpy")
    assert stable_digest(np.int64(5)) == stable_digest(5)
    assert stable_digest(np.str_("x")) == stable_digest("x")


def test_keys_with_addresses_are_refused():
    with pytest.raises(TypeError, match="memory address"):
        stable_digest(object())


def test_keys_that_are_equal_route_together():
    assert stable_digest(True) == stable_digest(1) and stable_digest(False) == stable_digest(0)
