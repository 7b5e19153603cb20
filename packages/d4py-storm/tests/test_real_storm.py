"""Against a real Storm cluster: only where STORM_HOME is set (none can be installed where d4py is developed).

Set STORM_HOME to a Storm 2.x installation whose ``bin/storm`` reaches a
cluster (its ``conf/storm.yaml``, or D4PY_TEST_STORM_NIMBUS=HOST[:PORT]),
whose supervisors have this Python's d4py-core and d4py-storm installed as
D4PY_TEST_STORM_PYTHON (default: python3), and which can reach this machine
(D4PY_TEST_STORM_DRIVER=HOST[:PORT] if its name does not resolve there).
"""

from __future__ import annotations

import os

import pytest

from d4py import PEFailure, WorkflowGraph, run
from d4py.testing import assert_same_items
from d4py.testing import pes as p

pytestmark = [
    pytest.mark.skipif(not os.environ.get("STORM_HOME"), reason="no Storm here: set STORM_HOME to run against one"),
    pytest.mark.timeout(900),
]


def _options() -> list[str]:
    options = [f"python={os.environ.get('D4PY_TEST_STORM_PYTHON', 'python3')}"]
    for option, variable in (("nimbus", "D4PY_TEST_STORM_NIMBUS"), ("driver", "D4PY_TEST_STORM_DRIVER")):
        if os.environ.get(variable):
            options.append(f"{option}={os.environ[variable]}")
    return options


def test_a_keyed_count_on_a_real_cluster_equals_simple():
    graph = WorkflowGraph()
    words, pair, count = p.Words(["storm", "flux", "storm", "ζ"]), p.Pair(), p.KeyCounter([0], numprocesses=2)
    graph.connect(words, "output", pair, "input")
    graph.connect(pair, "output", count, "input")
    got = run(graph, 3, backend="storm", options=_options()).output(count.id)
    assert_same_items([row[:2] for row in got], [row[:2] for row in run(graph, 3).output(count.id)])


def test_a_raising_pe_fails_the_run_on_a_real_cluster():
    graph = WorkflowGraph()
    source, faulty = p.Numbers(10), p.Fails(bad=4)
    graph.connect(source, "output", faulty, "input")
    with pytest.raises(PEFailure, match="failed in process on item"):
        run(graph, backend="storm", options=_options())
