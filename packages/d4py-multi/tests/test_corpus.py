"""dispel4py 1.2.1's example workflows give on multi what they give on simple."""

from __future__ import annotations

from pathlib import Path

import pytest

from d4py.testing.corpus import (
    EXAMPLES,
    RANDOM_EXAMPLES,
    assert_word_counts_consistent,
    by_port,
    fetch_dispel4py_examples,
    run_example,
)

ITERATIONS = 4


@pytest.fixture(scope="module")
def examples(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return fetch_dispel4py_examples(tmp_path_factory.mktemp("dispel4py-examples"))


@pytest.mark.parametrize("example", [e for e in EXAMPLES if e not in RANDOM_EXAMPLES])
@pytest.mark.parametrize("processes", [None, 6])
def test_multi_gives_the_outputs_of_simple(example, processes, examples):
    expected = run_example(example, examples, "simple", ITERATIONS, processes)
    assert expected
    assert by_port(run_example(example, examples, "multi", ITERATIONS, processes)) == by_port(expected)


@pytest.mark.parametrize("example", RANDOM_EXAMPLES)
def test_random_word_examples_keep_their_invariants(example, examples):
    """Random words differ from process to process; the counting must stay consistent."""
    iterations = 40
    assert_word_counts_consistent(example, run_example(example, examples, "multi", iterations, processes=6), iterations)
