"""The README's main job, the xcorr workflow module, run the way a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from matplotlib.image import imread


def test_the_xcorr_workflow_recovers_every_lag_and_says_where_the_results_are(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "d4py", "run", "d4py_seismo.workflows.xcorr", "--json"]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    outputs = json.loads(done.stdout)["outputs"]
    [checked] = next(ports["output"] for pe, ports in outputs.items() if pe.startswith("CheckLags"))
    [written] = next(ports["output"] for pe, ports in outputs.items() if pe.startswith("WriteCorrelations"))
    assert checked == {"pairs": 1225, "at the injected lag": 1225, "wrong": []}
    assert written["archive"] == str(tmp_path / "xcorr-results" / "correlations.npz")
    assert Path(written["archive"]).stat().st_size > 1_000_000
    assert imread(written["plot"]).shape[:2] == (720, 960)
