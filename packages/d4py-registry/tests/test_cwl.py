"""d4py cwl export: the export validates with cwltool, and cwltool running it gives d4py run's result.

cwltool lives in a virtualenv of its own (it pins its own prov): D4PY_TEST_CWLTOOL names its
command, as the nox session sets it. Without it these tests skip, except under CI, where they fail.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import WORKFLOWS


@pytest.fixture(scope="session")
def cwltool():
    command = os.environ.get("D4PY_TEST_CWLTOOL")
    if command and Path(command).is_file():
        return command
    reason = f"cwltool not configured: set D4PY_TEST_CWLTOOL to a cwltool command (got {command!r}); nox does"
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI must run the CWL tests")
    pytest.skip(reason)


def run_cwl(cwltool, document, tmp_path, *job):
    """Run ``document`` with cwltool, no containers, this venv's d4py first on PATH; return the output files."""
    outdir = tmp_path / "cwl-out"
    env = {**os.environ, "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])}
    options = ["--quiet", "--no-container", "--preserve-environment", "PATH", "--outdir", str(outdir)]
    options += ["--tmpdir-prefix", f"{tmp_path}/tmp-", "--tmp-outdir-prefix", f"{tmp_path}/out-"]
    done = subprocess.run(
        [cwltool, *options, str(document), *job],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return {name: Path(out["path"]) for name, out in json.loads(done.stdout).items()}


def d4py_run(cli, *args):
    done = cli("run", *args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def export(cli, tmp_path, workflow):
    document = tmp_path / "wf.cwl"
    done = cli("cwl", "export", workflow, "-o", str(document))
    assert done.returncode == 0, done.stderr
    return document


def test_the_export_validates(cli, cwltool, tmp_path):
    document = export(cli, tmp_path, "textstats.py")
    done = subprocess.run([cwltool, "--validate", str(document)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and "is valid CWL" in done.stdout + done.stderr, done.stderr


def test_cwltool_running_the_export_gives_d4py_runs_result(cli, cwltool, tmp_path):
    expected = d4py_run(cli, "textstats.py", "-i", "2")
    files = run_cwl(cwltool, export(cli, tmp_path, str(WORKFLOWS / "textstats.py")), tmp_path, "--iterations", "2")
    assert json.loads(files["result"].read_text())["outputs"] == expected["outputs"]
    assert set(files) == {"result", "word_length3_output", "PE_shout4_output"}
    assert json.loads(files["PE_shout4_output"].read_text()) == expected["outputs"]["PE_shout4"]["output"]
    assert json.loads(files["word_length3_output"].read_text()) == expected["outputs"]["word_length3"]["output"]


def test_run_input_as_json_and_an_output_that_stays_empty(cli, cwltool, tmp_path):
    data = json.dumps({"scale": [1, 2, 3]})
    expected = d4py_run(cli, "scaled.py", "-d", data)
    files = run_cwl(cwltool, export(cli, tmp_path, "scaled.py"), tmp_path, "--data", data)
    assert (
        json.loads(files["result"].read_text())["outputs"]
        == expected["outputs"]
        == {"Total1": {"total": [60], "seen": [10, 20, 30]}}
    )
    assert json.loads(files["Total1_total"].read_text()) == [60]
    empty = run_cwl(cwltool, export(cli, tmp_path, "scaled.py"), tmp_path, "--data", json.dumps({"scale": []}))
    assert json.loads(empty["Total1_seen"].read_text()) == []  # every open port gets its file


@pytest.mark.parametrize("mode", ["tool", "staged"])
def test_a_graph_named_with_attr_and_run_input_from_a_file(cli, cwltool, tmp_path, mode):
    (tmp_path / "job.json").write_text(json.dumps({"negate": [1, 2, 3]}))
    expected = d4py_run(cli, "two_graphs.py", "-a", "negatives", "-f", str(tmp_path / "job.json"))
    document = tmp_path / "wf.cwl"
    exported = cli("cwl", "export", "two_graphs.py", "-a", "negatives", "--mode", mode, "-o", str(document))
    assert exported.returncode == 0, exported.stderr
    files = run_cwl(cwltool, document, tmp_path, "--data_file", str(tmp_path / "job.json"))
    assert json.loads(files["negate1_output"].read_text()) == [-1, -2, -3] == expected["outputs"]["negate1"]["output"]


def test_staged_mode_is_one_step_per_partition_with_group_by_scattered_over_shards(cli, cwltool, tmp_path):
    document = tmp_path / "staged.cwl"
    assert cli("cwl", "export", "textstats.py", "-o", str(document), "--mode", "staged").returncode == 0
    steps = json.loads(document.read_text())["steps"]
    labels = [step.get("label") for step in steps.values()]
    assert sorted(labels[:-1]) == ["CountWords2", "PE_shout4", "Sentences0", "SplitWords1", "word_length3"]
    assert labels[0] == "Sentences0" and list(steps)[-1] == "collect"  # upstream first, gathered last
    counting = next(step for step in steps.values() if step.get("label") == "CountWords2")
    assert counting["scatter"] == "shard" and counting["in"]["shard"] == {"default": [0, 1]}
    validated = subprocess.run([cwltool, "--validate", str(document)], capture_output=True, text=True, timeout=300)
    assert validated.returncode == 0, validated.stderr


@pytest.mark.parametrize(
    ("workflow", "job"), [("textstats.py", ["-i", "2"]), ("scaled.py", ["-d", '{"scale": [1, 2]}'])]
)
def test_cwltool_running_the_staged_export_gives_d4py_runs_result(cli, cwltool, tmp_path, workflow, job):
    expected = d4py_run(cli, workflow, *job)
    document = tmp_path / "staged.cwl"
    assert cli("cwl", "export", workflow, "-o", str(document), "--mode", "staged").returncode == 0
    cwl_job = ["--iterations", job[1]] if job[0] == "-i" else ["--data", job[1]]
    result = json.loads(run_cwl(cwltool, document, tmp_path, *cwl_job)["result"].read_text())
    assert as_multisets(result["outputs"]) == as_multisets(expected["outputs"])  # instances' order is not promised
    assert result["counts"] == expected["counts"]


def as_multisets(outputs):
    return {
        pe: {port: sorted(map(json.dumps, items)) for port, items in ports.items()} for pe, ports in outputs.items()
    }


def test_splitting_something_that_is_no_result_is_one_line(cli, tmp_path):
    (tmp_path / "bad.json").write_text("not json")
    done = cli("cwl", "outputs", str(tmp_path / "bad.json"), "A0.output", cwd=tmp_path)
    assert done.returncode == 2 and "not a 'd4py run --json' result" in done.stderr
