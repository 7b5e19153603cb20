"""dispel4py 1.x compatibility: the 1.2.1 example corpus gives 1.2.1's outputs.

The dispel4py 1.2.1 wheel is downloaded from PyPI at test time into a
temporary folder, installed into a venv of its own to produce the reference
outputs, and never committed. d4py runs the same example files with
dispel4py *not* installed: its compatibility layer answers the imports.
"""

from __future__ import annotations

import json
import subprocess
import textwrap
import venv
from collections import Counter
from pathlib import Path

import pytest

from d4py.testing import as_multiset
from d4py.testing.corpus import PACKAGE, fetch_dispel4py_examples, fetch_dispel4py_wheel, run_example

ITERATIONS = 3

# Examples whose only randomness is the producer's: seeded alike, outputs match exactly.
DETERMINISTIC = [
    "delayed_pipeline",
    "group_by",
    "grouping_alltoone",
    "large_teecopy",
    "loopcopy",
    "multi_producer",
    "parallel_pipeline",
    "partition_parallel_pipeline",
    "pipeline_test",
    "producer_tee",
    "split_merge",
    "teecopy",
    "unconnected_pipeline",
    "word_count",
]
# RandomFilter draws from `random` between the producer's draws; 1.2.1 buffers whole
# streams while d4py streams, so the draws interleave differently: check invariants.
RANDOM_FILTERED = {"grouping_split_merge": 2, "word_count_filter": 1}
FILTERED_ITERATIONS = 40
WORDS = {"dispel4py", "computing", "mpi", "processing", "simple", "analysis", "data"}

REFERENCE_DRIVER = textwrap.dedent(
    """
    import importlib, json, random, sys
    random.seed(0)
    from dispel4py.core import GenericPE
    from dispel4py.new.simple_process import process_and_return
    graph = importlib.import_module(sys.argv[1]).graph
    graph.flatten()  # as 1.2.1's own command line does before processing
    targets = {id(d["DIRECTION"][1]) for _, _, d in graph.graph.edges(data=True)}
    roots = [n.getContainedObject() for n in graph.graph.nodes()]
    roots = [pe for pe in roots if isinstance(pe, GenericPE) and id(pe) not in targets]
    outputs = process_and_return(graph, {pe: int(sys.argv[2]) for pe in roots})
    print("RESULT " + json.dumps(outputs))
    """
)


@pytest.fixture(scope="session")
def dispel4py_121(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Download dispel4py 1.2.1; return (a venv's python with it installed, its examples folder)."""
    root = tmp_path_factory.mktemp("dispel4py-1.2.1")
    wheel = fetch_dispel4py_wheel(root)
    env = root / "venv"
    venv.create(env, with_pip=True)
    python = env / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "-q", "install", "--no-deps", str(wheel)], check=True)
    subprocess.run([str(python), "-m", "pip", "-q", "install", "networkx"], check=True)
    return python, fetch_dispel4py_examples(tmp_path_factory.mktemp("examples"))


def _outputs(
    python: Path, driver: str, example: str, cwd: Path, iterations: int = ITERATIONS
) -> dict[str, dict[str, list]]:
    done = subprocess.run(
        [str(python), "-c", driver, f"{PACKAGE}.{example}", str(iterations)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    (line,) = [ln for ln in done.stdout.splitlines() if ln.startswith("RESULT ")]
    return json.loads(line[len("RESULT ") :])


def _d4py(example: str, examples: Path, iterations: int = ITERATIONS) -> dict[str, dict[str, list]]:
    return run_example(example, examples, iterations=iterations)


def _by_port(outputs: dict[str, dict[str, list]]) -> dict[tuple[str, str], Counter]:
    return {(pe, port): as_multiset(items) for pe, ports in outputs.items() for port, items in ports.items()}


@pytest.mark.parametrize("example", DETERMINISTIC)
def test_example_matches_dispel4py_121(example, dispel4py_121, tmp_path):
    python, examples = dispel4py_121
    reference = _outputs(python, REFERENCE_DRIVER, example, tmp_path)
    assert reference, "dispel4py 1.2.1 produced nothing"
    assert _by_port(_d4py(example, examples)) == _by_port(reference)


def test_one_to_all_reaches_both_instances(dispel4py_121, tmp_path):
    """1.2.1's simple forced one instance per PE; d4py's plan keeps numprocesses=2 on
    every backend, so each item reaches both instances, as it does under 1.2.1 multi."""
    python, examples = dispel4py_121
    reference = _by_port(_outputs(python, REFERENCE_DRIVER, "grouping_onetoall", tmp_path))
    doubled = {key: counts + counts for key, counts in reference.items()}
    assert _by_port(_d4py("grouping_onetoall", examples)) == doubled


@pytest.mark.parametrize(("example", "branches"), sorted(RANDOM_FILTERED.items()))
def test_random_filter_examples_keep_their_invariants(example, branches, dispel4py_121, tmp_path):
    python, examples = dispel4py_121
    for outputs in (
        _outputs(python, REFERENCE_DRIVER, example, tmp_path, FILTERED_ITERATIONS),
        _d4py(example, examples, FILTERED_ITERATIONS),
    ):
        rows = [row for ports in outputs.values() for row in ports["output"]]
        assert 0 < len(rows) <= branches * FILTERED_ITERATIONS
        seen: dict[str, list[int]] = {}
        for word, count in rows:
            assert word in WORDS
            seen.setdefault(word, []).append(count)
        # WordCounter's running counts per word are 1, 2, ... with none missing.
        assert all(sorted(counts) == list(range(1, len(counts) + 1)) for counts in seen.values())


def _fails_on_121(python: Path, example: str, cwd: Path, message: str) -> None:
    done = subprocess.run(
        [str(python), "-c", REFERENCE_DRIVER, f"{PACKAGE}.{example}", "1"],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )
    assert done.returncode != 0 and message in done.stderr


def test_composite_fails_on_121_and_runs_on_d4py(dispel4py_121, tmp_path):
    """1.2.1's flatten() adds nodes while iterating over them: networkx 2+ refuses, and
    networkx 1.x does not import on Python 3.11. d4py runs the chain."""
    python, examples = dispel4py_121
    _fails_on_121(python, "pipeline_composite", tmp_path, "dictionary changed size during iteration")
    outputs = _d4py("pipeline_composite", examples)
    assert outputs == {"PE_subtract3": {"output": [((i + 2) * 4) / 2 - 1 for i in range(1, ITERATIONS + 1)]}}


def test_sieve_crashes_on_121_and_gives_the_primes_on_d4py(dispel4py_121, tmp_path):
    """1.2.1 calls NumberProducer._process(inputs) on a method that takes none; d4py
    accepts both signatures, so the sieve yields the 168 primes below 1000."""
    python, examples = dispel4py_121
    _fails_on_121(python, "sieveoferatosthenes", tmp_path, "takes 1 positional argument but 2 were given")
    outputs = _d4py("sieveoferatosthenes", examples)
    primes = [n for n in range(2, 1000) if all(n % d for d in range(2, int(n**0.5) + 1))]
    (collected,) = [ports["output"] for pe, ports in outputs.items() if pe.startswith("PrimeCollector")]
    assert collected == primes and len(primes) == 168
