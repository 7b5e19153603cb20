"""dispel4py 1.2.1's own tests that ship in its wheel, run against d4py's compatibility layer.

The wheel comes from PyPI at test time; nothing of it is committed. Its tests
import ``nose.tools``, which no longer imports on Python 3.10+: a stand-in of
our own (``eq_``, ``ok_``, ``raises``) takes its place.
"""

from __future__ import annotations

import math
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from d4py.testing.corpus import fetch_dispel4py_examples, fetch_dispel4py_wheel

NOSE_TOOLS = """
def eq_(a, b, msg=None):
    assert a == b, msg or f"{a!r} != {b!r}"


def ok_(expr, msg=None):
    assert expr, msg


def raises(*exceptions):
    def decorate(test):
        def run(*args, **kwargs):
            try:
                test(*args, **kwargs)
            except exceptions:
                return
            raise AssertionError(f"{test.__name__} did not raise {exceptions}")

        run.__name__ = test.__name__
        return run

    return decorate
"""

# testStdDev asserts the numbers of 1.x's reducer bug (it reads the deviation as the count);
# d4py's reducer reads the right fields, and test_std_dev_is_right below checks its numbers.
NOT_APPLICABLE = ["testStdDev"]


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding 1.2.1's examples (as dispel4py/examples), its aggregate tests, and the nose stand-in."""
    folder = fetch_dispel4py_examples(tmp_path_factory.mktemp("dispel4py-suite"))
    with zipfile.ZipFile(fetch_dispel4py_wheel(folder)) as wheel:
        (folder / "aggregate_test.py").write_bytes(wheel.read("dispel4py/new/aggregate_test.py"))
    (folder / "nose").mkdir()
    (folder / "nose" / "__init__.py").write_text("")
    (folder / "nose" / "tools.py").write_text(NOSE_TOOLS)
    (folder / "conftest.py").write_text("from d4py import _compat\n\n_compat.install()\n")
    return folder


def test_dispel4py_s_aggregate_tests_pass(suite: Path) -> None:
    deselected = [f"--deselect=aggregate_test.py::{name}" for name in NOT_APPLICABLE]
    command = [sys.executable, "-m", "pytest", "aggregate_test.py", "-q", "-p", "no:cacheprovider", *deselected]
    done = subprocess.run(command, cwd=suite, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "5 passed, 1 deselected" in done.stdout  # testSum, Avg, Count, MinMax, ContinuousReduce


def test_std_dev_is_right(suite: Path) -> None:
    probe = (
        "from d4py import _compat\n_compat.install()\n"
        "from aggregate_test import graph_stddev\nfrom dispel4py.new import simple_process\n"
        "graph = graph_stddev()\ngraph.flatten()\n"
        "print(list(simple_process.process_and_return(graph, {'NumberProducer': [{}]}).values()))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=suite, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    ((deviation, count, total, squares),) = eval(done.stdout)[0]["output"]
    values = range(1000)
    mean = sum(values) / 1000
    assert (count, total, squares) == (1000, sum(values), sum(v * v for v in values))
    assert math.isclose(deviation, math.sqrt(sum((v - mean) ** 2 for v in values) / 999))
