"""dispel4py 1.2.1's example workflows, fetched at test time, for backend tests.

    folder = fetch_dispel4py_examples(tmp_path)
    outputs = run_example("split_merge", folder, backend="multi")

    class TestCorpus(CorpusContract):  # every example, compared with simple (needs pytest)
        backend = "multi"

The wheel comes from PyPI when called and is never stored in a repository.
Each example runs in a fresh interpreter (PE ids are numbered per
interpreter), with dispel4py itself not importable: only its examples are.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import pytest

from d4py.testing import as_multiset

__all__ = [
    "EXAMPLES",
    "RANDOM_EXAMPLES",
    "assert_word_counts_consistent",
    "CorpusContract",
    "by_port",
    "fetch_dispel4py_examples",
    "fetch_dispel4py_wheel",
    "run_example",
]

PACKAGE = "dispel4py.examples.graph_testing"
# Every workflow in dispel4py 1.2.1's examples/graph_testing.
EXAMPLES = (
    "delayed_pipeline",
    "group_by",
    "grouping_alltoone",
    "grouping_onetoall",
    "grouping_split_merge",
    "large_teecopy",
    "loopcopy",
    "multi_producer",
    "parallel_pipeline",
    "partition_parallel_pipeline",
    "pipeline_composite",
    "pipeline_test",
    "producer_tee",
    "sieveoferatosthenes",
    "split_merge",
    "teecopy",
    "unconnected_pipeline",
    "word_count",
    "word_count_filter",
)
# Examples that draw words from `random`: the same only within one seeded process
# (CPython reseeds `random` in every forked child), so parallel runs differ.
RANDOM_EXAMPLES = ("group_by", "grouping_split_merge", "word_count", "word_count_filter")

_DRIVER = """
import json, random, sys
random.seed(0)
from d4py import run
from d4py.loader import load_workflow
processes = None if sys.argv[4] == "-" else int(sys.argv[4])
result = run(load_workflow(sys.argv[1]), int(sys.argv[2]), backend=sys.argv[3], processes=processes,
             options=sys.argv[5:])
print("RESULT " + json.dumps(result.outputs))
"""


def fetch_dispel4py_wheel(folder: Path) -> Path:
    """Download the dispel4py 1.2.1 wheel from PyPI into ``folder``; return its path."""
    found = list(folder.glob("dispel4py-1.2.1-*.whl"))
    if not found:
        command = [sys.executable, "-m", "pip", "download", "-q", "--disable-pip-version-check"]
        subprocess.run([*command, "--no-deps", "dispel4py==1.2.1", "-d", str(folder)], check=True)
        found = list(folder.glob("dispel4py-1.2.1-*.whl"))
    return found[0]


def fetch_dispel4py_examples(folder: Path) -> Path:
    """Unpack only ``dispel4py/examples`` of the 1.2.1 wheel under ``folder``; return ``folder``.

    With ``folder`` as the working directory, ``dispel4py.examples...`` imports
    while ``dispel4py`` itself resolves to d4py's compatibility layer.
    """
    wheel = fetch_dispel4py_wheel(folder)
    with zipfile.ZipFile(wheel) as archive:
        members = [name for name in archive.namelist() if name.startswith("dispel4py/examples/")]
        archive.extractall(folder, members)
    return folder


def run_example(
    name: str,
    folder: Path,
    backend: str = "simple",
    iterations: int = 3,
    processes: int | None = None,
    options: Sequence[str] = (),
) -> dict[str, dict[str, list[Any]]]:
    """Run one example on ``backend`` in a fresh interpreter; return its outputs as JSON data."""
    command = [sys.executable, "-c", _DRIVER, f"{PACKAGE}.{name}", str(iterations), backend]
    command += ["-" if processes is None else str(processes), *options]
    done = subprocess.run(command, capture_output=True, text=True, cwd=folder, timeout=600)
    if done.returncode != 0:
        raise AssertionError(f"{name} failed on {backend}:\n{done.stderr}")
    (line,) = [ln for ln in done.stdout.splitlines() if ln.startswith("RESULT ")]
    outputs: dict[str, dict[str, list[Any]]] = json.loads(line[len("RESULT ") :])
    return outputs


def by_port(outputs: dict[str, dict[str, list[Any]]]) -> dict[tuple[str, str], Counter[Any]]:
    """Outputs as a multiset per (PE, port), to compare runs whose order may differ."""
    return {(pe, port): as_multiset(items) for pe, ports in outputs.items() for port, items in ports.items()}


def assert_word_counts_consistent(example: str, outputs: dict[str, dict[str, list[Any]]], iterations: int) -> None:
    """Check one of the RANDOM_EXAMPLES: words differ from process to process, the counting may not.

    Each (word, count) row counts one more sighting of its word, so a word's
    counts are 1, 2, 3, ...; without a filter there is one row per word drawn.
    """
    rows = [row for ports in outputs.values() for row in ports["output"]]
    if example in ("group_by", "word_count"):
        assert len(rows) == iterations, f"{example}: {len(rows)} rows for {iterations} words drawn"
    assert 0 < len(rows) <= 2 * iterations, f"{example}: {len(rows)} rows for {iterations} iterations"
    counts: dict[str, list[int]] = {}
    for word, count in rows:
        counts.setdefault(word, []).append(count)
    broken = {word: c for word, c in counts.items() if sorted(c) != list(range(1, len(c) + 1))}
    assert not broken, f"{example}: counts that skip or repeat: {broken}"


class CorpusContract:
    """dispel4py 1.2.1's examples give on ``backend`` what they give on ``simple``; subclass and set ``backend``."""

    backend: ClassVar[str] = ""
    options: ClassVar[Sequence[str]] = ()  # the backend's -o options
    iterations: ClassVar[int] = 4
    budgets: ClassVar[tuple[int | None, ...]] = (None, 6)  # the process budgets to compare under

    @pytest.fixture(scope="class")
    @classmethod
    def examples(cls, tmp_path_factory: pytest.TempPathFactory) -> Path:
        return fetch_dispel4py_examples(tmp_path_factory.mktemp("dispel4py-examples"))

    @pytest.mark.parametrize("example", [e for e in EXAMPLES if e not in RANDOM_EXAMPLES])
    @pytest.mark.parametrize("processes", [None, 6])
    def test_gives_the_outputs_of_simple(self, example: str, processes: int | None, examples: Path) -> None:
        if processes not in self.budgets:
            pytest.skip(f"{self.backend} compares under budgets {self.budgets} only")
        expected = run_example(example, examples, "simple", self.iterations, processes)
        assert expected
        got = run_example(example, examples, self.backend, self.iterations, processes, self.options)
        assert by_port(got) == by_port(expected)

    @pytest.mark.parametrize("example", RANDOM_EXAMPLES)
    def test_random_word_examples_keep_their_invariants(self, example: str, examples: Path) -> None:
        """Random words differ from process to process; the counting must stay consistent."""
        iterations = 40
        outputs = run_example(example, examples, self.backend, iterations, processes=6, options=self.options)
        assert_word_counts_consistent(example, outputs, iterations)
