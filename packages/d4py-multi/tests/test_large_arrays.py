"""Large arrays cross between forked workers through the sender's region, as they were when written."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from d4py import run
from d4py.loader import load_workflow

pytest.importorskip("numpy")
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="regions and /proc/self/maps are Linux's")

WORKFLOW = Path(__file__).parent / "workflows" / "large_arrays.py"


def _checks(*options: str) -> list[tuple[int, bool, bool, bool]]:
    result = run(load_workflow(str(WORKFLOW)), backend="multi", options=list(options))
    (checks,) = [ports["output"] for ports in result.outputs.values()]
    return sorted(checks)


def test_forked_workers_receive_large_arrays_mapped_from_the_senders_region():
    checks = _checks("start_method=fork")
    assert [number for number, *_ in checks] == list(range(12))
    assert all(intact for _, intact, _, _ in checks)  # as written, though the producer refilled the array after
    assert any(crossed for _, _, crossed, _ in checks)
    assert all(in_region == crossed for _, _, crossed, in_region in checks)


def test_spawned_workers_receive_them_through_the_pipe():
    checks = _checks("start_method=spawn")
    assert all(intact and not in_region for _, intact, _, in_region in checks)
    assert any(crossed for _, _, crossed, _ in checks)
