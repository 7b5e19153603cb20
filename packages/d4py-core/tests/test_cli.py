"""The d4py command line, run as a user would, in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def test_run_prints_outputs_and_summary(cli):
    done = cli("run", "wordfreq.py")
    assert done.returncode == 0, done.stderr
    assert "Gather" in done.stdout and "('dog', 2)" in done.stdout and "('the', 4)" in done.stdout
    assert "simple:" in done.stdout


def test_run_json_gives_a_machine_readable_result(cli):
    done = cli("run", "wordfreq", "--json")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    ((pe_id, ports),) = document["outputs"].items()
    assert pe_id.startswith("Gather")
    assert dict(map(tuple, ports["output"][0]))["the"] == 4
    assert document["counts"][pe_id] == 10  # one item per distinct word, from the CountWords instances


def test_inputs_by_pe_name(cli):
    done = cli("run", "wordfreq.py", "-d", '{"Lines": 2, "MoreLines": 0}', "--json")
    assert done.returncode == 0, done.stderr
    ports = json.loads(done.stdout)["outputs"]
    ((words,),) = [p["output"] for p in ports.values()]
    assert dict(map(tuple, words))["the"] == 6


def test_unknown_pe_in_d_is_a_usage_error(cli):
    done = cli("run", "wordfreq.py", "-d", '{"Nope": 1}')
    assert done.returncode == 2
    assert "unknown PE 'Nope'" in done.stderr and "Lines" in done.stderr and "MoreLines" in done.stderr
    assert "Traceback" not in done.stderr


def test_invalid_json_is_a_usage_error(cli):
    done = cli("run", "wordfreq.py", "-d", "{not json")
    assert done.returncode == 2
    assert "-d: invalid JSON" in done.stderr


def test_missing_module_is_a_usage_error(cli):
    done = cli("run", "no_such_workflow_module")
    assert done.returncode == 2
    assert "cannot find workflow 'no_such_workflow_module'" in done.stderr


def test_missing_file_is_a_usage_error(cli):
    done = cli("run", "missing.py")
    assert done.returncode == 2
    assert "cannot find workflow file 'missing.py'" in done.stderr


def test_type_mismatch_is_a_usage_error(cli):
    for command in (["check", "mismatch.py"], ["run", "mismatch.py"]):
        done = cli(*command)
        assert done.returncode == 2
        assert "type mismatch" in done.stderr and "names" in done.stderr and "square" in done.stderr


def test_several_graphs_need_attr(cli):
    done = cli("run", "two_graphs.py")
    assert done.returncode == 2 and "first, second" in done.stderr and "-a" in done.stderr
    done = cli("run", "two_graphs.py", "-a", "second", "--json")
    assert done.returncode == 0
    assert json.loads(done.stdout)["outputs"] != {}


def test_unknown_backend_lists_the_installed_ones(cli):
    done = cli("run", "wordfreq.py", "--backend", "nope")
    assert done.returncode == 2 and "unknown backend 'nope'" in done.stderr and "simple" in done.stderr


def test_unknown_option_is_a_usage_error(cli):
    done = cli("run", "wordfreq.py", "-o", "speed=11")
    assert done.returncode == 2 and "-o speed" in done.stderr


def test_conflicting_inputs_are_a_usage_error(cli):
    done = cli("run", "wordfreq.py", "-i", "2", "-d", "{}")
    assert done.returncode == 2 and "at most one of -i, -d and -f" in done.stderr


def test_input_file(cli, tmp_path):
    path = tmp_path / "in.json"
    path.write_text('{"Lines": 1, "MoreLines": 1}')
    done = cli("run", "wordfreq.py", "-f", str(path), "--json")
    assert done.returncode == 0, done.stderr
    done = cli("run", "wordfreq.py", "-f", str(tmp_path / "absent.json"))
    assert done.returncode == 2 and "absent.json" in done.stderr


def test_failing_pe_exits_1_naming_pe_and_item(cli):
    done = cli("run", "broken.py")
    assert done.returncode == 1
    assert "PE 'Reciprocal" in done.stderr and "on item {'input': 4}" in done.stderr
    assert "ZeroDivisionError" in done.stderr and "return 1 / (x - 4)" in done.stderr


def test_wrong_port_in_connect_is_a_usage_error(cli, tmp_path):
    (tmp_path / "badport.py").write_text(
        "from d4py import WorkflowGraph\n"
        "from d4py.testing.pes import Numbers, Pass\n"
        "graph = WorkflowGraph()\n"
        "graph.connect(Numbers(1), 'out', Pass(), 'input')\n"
    )
    done = cli("run", "badport.py", cwd=tmp_path)
    assert done.returncode == 2
    assert "has no output 'out'; its outputs are: 'output' (at badport.py line 4)" in done.stderr
    assert "importing workflow" not in done.stderr


def test_check_reports_the_plan(cli):
    done = cli("check", "wordfreq.py")
    assert done.returncode == 0
    assert "ok: 5 PEs" in done.stdout


def test_graph_draw_dot(cli, tmp_path):
    done = cli("graph", "draw", "wordfreq.py")
    assert done.returncode == 0 and done.stdout.startswith("digraph workflow")
    assert 'label="group_by[0]"' in done.stdout and 'label="global"' in done.stdout
    done = cli("graph", "draw", "wordfreq.py", "-o", str(tmp_path / "g.txt"))
    assert done.returncode == 2 and ".dot, .svg or .png" in done.stderr


def test_backends_and_plugins_list_simple(cli):
    done = cli("backends")
    assert done.returncode == 0 and "simple" in done.stdout and "available" in done.stdout
    done = cli("plugins")
    assert done.returncode == 0 and "simple" in done.stdout and "d4py.backends" not in done.stdout
    assert "d4py-core" in done.stdout


def test_help_names_every_command(cli):
    done = cli("--help")
    for command in ("run", "check", "graph", "backends", "plugins"):
        assert command in done.stdout


def test_check_with_n_prints_which_instances_share_each_process(cli):
    done = cli("check", "wordfreq.py", "-n", "2")
    assert done.returncode == 0, done.stderr
    assert "layout under -n 2: PEs run in 2 processes" in done.stdout
    hosted = [line for line in done.stdout.splitlines() if line.startswith("  process ")]
    assert len(hosted) == 2 and sum(line.count("[") for line in hosted) == 5  # every instance, once


def test_check_without_n_prints_the_layout_too(cli):
    done = cli("check", "wordfreq.py")
    assert done.returncode == 0, done.stderr
    assert "layout without -n: PEs run in 5 processes" in done.stdout  # five PEs of one instance, none parallel
    assert sum(line.startswith("  process ") for line in done.stdout.splitlines()) == 5


def test_help_shows_json_brackets_and_names_values_as_users_type_them(cli):
    done = cli("run", "--help")
    assert done.returncode == 0
    assert '{"PEName": N or [inputs, ...]}' in done.stdout
    assert "run [OPTIONS] WORKFLOW" in done.stdout.splitlines()[0] and "{" not in done.stdout.splitlines()[0]
    assert "-d, --data JSON" in done.stdout and "-o, --option KEY=VALUE" in done.stdout
    assert "<bool>" not in done.stdout and "<str>" not in done.stdout


def test_version(cli):
    done = cli("--version")
    assert done.returncode == 0 and done.stdout.startswith("d4py 0.")


def test_first_party_backends_that_are_not_installed_say_what_to_install(cli, monkeypatch):
    monkeypatch.setenv("D4PY_DISABLE_PLUGIN_AUTOLOAD", "1")  # as if only d4py-core were installed
    listed = cli("backends")
    refused = cli("run", "-b", "mpi", "wordfreq.py")
    assert "not installed: pip install 'd4py-mpi[mpich]'" in listed.stdout
    assert "not installed: pip install d4py-multi" in listed.stdout
    assert refused.returncode == 2
    assert "backend 'mpi' is not installed: pip install 'd4py-mpi[mpich]'" in refused.stderr


def test_check_counts_in_words(cli):
    done = cli("check", "wordfreq.py", "-n", "1")
    assert "0 fused partitions" in done.stdout and "PEs run in 1 process\n" in done.stdout


def test_a_workflow_file_named_like_a_standard_module_runs(tmp_path):
    (tmp_path / "types.py").write_text(TYPES_PY)
    d4py = Path(sys.executable).parent / "d4py"  # the command users type (python -m would put types.py first)
    check = subprocess.run([d4py, "check", "types.py"], cwd=tmp_path, capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    done = subprocess.run([d4py, "run", "types.py", "--json"], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert sorted(json.loads(done.stdout)["outputs"]["Twice1"]["output"]) == [0, 2, 4]


TYPES_PY = """
from d4py import WorkflowGraph
from d4py.testing.pes import Numbers, Pass


class Twice(Pass):
    def _process(self, data):
        return 2 * data


graph = WorkflowGraph()
graph.connect(Numbers(3), "output", Twice(), "input")
"""


HELLO_COMMAND = """
import argparse

from d4py import UsageError


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = "Greet someone."
    parser.add_argument("name", metavar="NAME")
    parser.set_defaults(handler=greet)


def greet(args: argparse.Namespace) -> int:
    if args.name == "nobody":
        raise UsageError("NAME: give somebody's name")
    print(f"hello {args.name}")
    return 0
"""


def test_an_installed_package_adds_a_command_imported_only_when_typed(cli, tmp_path, monkeypatch):
    (tmp_path / "d4py_hello.py").write_text(HELLO_COMMAND)
    info = tmp_path / "d4py_hello-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: d4py-hello\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[d4py.commands]\nhello = d4py_hello:configure\n")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    assert cli("hello", "world").stdout == "hello world\n"
    refused = cli("hello", "nobody")
    assert refused.returncode == 2 and refused.stderr == "error: NAME: give somebody's name\n"
    assert cli("hello").returncode == 2  # argparse: NAME is required
    assert "Greet someone." in cli("hello", "--help").stdout
    listed = cli("--help").stdout.split("Commands from installed packages: ")[1]
    assert "hello" in listed.splitlines()[0].split(", ")  # beside any other installed package's commands
    (tmp_path / "d4py_hello.py").write_text("raise ImportError('broken on purpose')")
    assert cli("check", "wordfreq.py").returncode == 0  # other commands never import it
    broken = cli("hello", "world")
    assert broken.returncode == 1 and "the command 'hello' from d4py-hello failed to load" in broken.stderr


QUIET_PLUGIN = """
from d4py import hookimpl


@hookimpl
def d4py_cli_run_arguments(parser):
    parser.add_argument("--quiet-plugin", action="store_true", help="Say nothing at the start.")


@hookimpl
def d4py_cli_run_parsed(args):
    if not args.quiet_plugin:
        print(f"starting {args.workflow}")
"""


def _install_plugin(folder: Path, name: str, source: str) -> None:
    (folder / f"d4py_{name}.py").write_text(source)
    info = folder / f"d4py_{name}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: d4py-{name}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[d4py]\n{name} = d4py_{name}\n")


def test_a_plugin_adds_run_options_and_reads_them(cli, tmp_path, monkeypatch):
    _install_plugin(tmp_path, "quiet", QUIET_PLUGIN)
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    assert cli("run", "wordfreq.py").stdout.startswith("starting wordfreq.py\n")
    quiet = cli("run", "--quiet-plugin", "wordfreq.py")
    assert quiet.returncode == 0 and "starting" not in quiet.stdout
    assert "Say nothing at the start." in cli("run", "--help").stdout
    assert cli("check", "--quiet-plugin", "wordfreq.py").returncode == 2  # an option of run only


def test_a_plugin_option_that_clashes_names_the_plugin(cli, tmp_path, monkeypatch):
    _install_plugin(tmp_path, "clash", QUIET_PLUGIN.replace("--quiet-plugin", "--json"))
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    done = cli("run", "wordfreq.py")
    assert done.returncode == 1
    assert "the d4py plugin 'clash' cannot add its run options" in done.stderr and "--json" in done.stderr
