"""``d4py monitor serve`` in a real browser, against runs recorded on every backend."""

from __future__ import annotations

import itertools
import json
import os
import re
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect
from recorded import record_runs

WORKFLOWS = Path(__file__).parent / "workflows"
SLOW_PES = ["Numbers0", "Pass1", "Slow2", "Pass3"]


@pytest.fixture(scope="module")
def recorded_home(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A $D4PY_HOME holding real runs: slow.py on each backend, counted.py on multi, fails.py; their ids."""
    home = tmp_path_factory.mktemp("recorded") / "d4py-home"
    runs = [
        ("slow-simple", ["-b", "simple", "slow.py"]),
        ("slow-multi", ["-b", "multi", "-n", "4", "slow.py"]),
        ("slow-mpi", ["-b", "mpi", "-n", "4", "slow.py"]),
        ("slow-spark", ["-b", "spark", "-n", "4", "slow.py"]),
        ("slow-redis", ["-b", "redis", "-n", "4", "slow.py"]),  # a private redis-server, started by the run
        ("slow-storm", ["-b", "storm", "-o", "emulate=true", "-n", "4", "slow.py"]),  # no Storm cluster here
        ("counted-multi", ["-b", "multi", "counted.py"]),  # KeyCounter3's 3 instances in 3 processes
        ("fails-simple", ["-b", "simple", "fails.py"]),
    ]
    return home, record_runs(home, runs, frozenset({"fails-simple"}))


@pytest.fixture
def recorded(recorded_home, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The recorded runs' ids, with $D4PY_HOME pointing at them."""
    home, ids = recorded_home
    monkeypatch.setenv("D4PY_HOME", str(home))
    return ids


def rows(page):
    return page.locator("#runs tbody tr[data-id]")


def test_the_runs_list_shows_every_run_and_search_and_filters_narrow_it(page, serve, recorded):
    page.goto(serve())
    expect(rows(page)).to_have_count(8)
    expect(page.locator("#count")).to_have_text("8 of 8 runs")
    page.fill("#search", "mpi")
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_have_attribute("data-id", recorded["slow-mpi"])
    page.fill("#search", recorded["counted-multi"][:6].upper())  # any case, any part of an id
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_contain_text("counted")
    page.fill("#search", "")
    page.select_option("#backend", "multi")
    expect(rows(page)).to_have_count(2)
    page.select_option("#workflow", "slow")
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_have_attribute("data-id", recorded["slow-multi"])
    page.select_option("#backend", "")
    page.select_option("#workflow", "")
    page.select_option("#status", "failed")
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_contain_text("fails")
    page.fill("#search", "no such thing")
    expect(page.locator("#runs tbody")).to_contain_text("no run matches")


@pytest.mark.parametrize("backend", ["simple", "multi", "mpi", "spark", "redis", "storm"])
def test_the_run_page_draws_the_graph_and_names_the_bottleneck(page, serve, recorded, backend):
    page.goto(f"{serve()}runs/{recorded[f'slow-{backend}']}")
    expect(page.locator("#workflow-name")).to_have_text("slow")
    expect(page.locator("#summary")).to_contain_text(f"on {backend}")
    nodes = page.locator("#graph-drawing g.pe")
    expect(nodes).to_have_count(4)
    assert [nodes.nth(n).get_attribute("data-pe") for n in range(4)] == SLOW_PES
    expect(page.locator("#graph-drawing")).to_contain_text("Slow2 (bottleneck)")
    expect(page.locator("#bottleneck .pe")).to_have_text("Slow2")  # 3 ms an item: by far the busiest
    expect(page.locator("#layout .instance")).to_have_count(4)
    expect(page.locator("#instances tbody tr")).to_have_count(4)
    expect(page.locator("#timeline-drawing")).to_contain_text("Slow2[0]")
    expect(page.locator("#profile-charts svg.chart")).to_have_count(2)
    page.select_option("#profile-choice", "instance:Slow2[0]")
    bars = page.locator('#profile-charts rect[data-kind="in"]')
    expect(bars.first).to_be_attached()
    assert sum(int(value) for value in bars.evaluate_all("bars => bars.map(b => b.dataset.value)")) == 200
    matrix = page.locator("#matrix")
    expect(matrix).to_contain_text("from \\ to")
    for row, sent_to in itertools.pairwise(SLOW_PES):  # each PE sent all 200 items to the next
        expect(matrix.locator("tr", has_text=f"{row}[0]").last).to_contain_text("200 items")
        expect(matrix.locator("th", has_text=f"{sent_to}[0]").first).to_be_attached()


def test_the_layout_shows_which_instance_ran_in_which_process(page, serve, recorded):
    page.goto(f"{serve()}runs/{recorded['counted-multi']}")
    expect(page.locator("#layout .instance")).to_have_count(6)  # KeyCounter3 has 3 instances
    # The fused chain Numbers0-Pass1-Pair2 shares its process with KeyCounter3[0], the others have one each.
    expect(page.locator("#layout .process")).to_have_count(3)
    expect(page.locator("#layout .process").first).to_contain_text("KeyCounter3[0]")
    expect(page.locator("#layout")).to_contain_text("KeyCounter3[2]")
    expect(page.locator("#layout")).to_contain_text("host ")


def test_a_failed_run_shows_its_error_pe_item_and_traceback(page, serve, recorded):
    page.goto(f"{serve()}runs/{recorded['fails-simple']}")
    expect(page.locator("#summary .status")).to_have_text("failed")
    error = page.locator("#error")
    expect(error).to_contain_text("PEFailure")
    expect(error).to_contain_text("Fails2")
    expect(error).to_contain_text("{'input': 13}")
    expect(error.locator("pre.traceback")).to_contain_text("ValueError: cannot handle 13")
    expect(page.locator("#graph-drawing")).to_contain_text("Fails2  (failed)")


def test_two_runs_picked_in_the_list_are_compared_pe_by_pe(page, serve, recorded):
    page.goto(serve())
    expect(rows(page)).to_have_count(8)
    for name in ("slow-simple", "slow-mpi"):
        page.locator(f'#runs tr[data-id="{recorded[name]}"] input').check()
    page.click("#compare")
    table = page.locator("#compared")
    expect(table).to_be_visible()
    expect(page.locator("#page")).to_contain_text(f"A: run {recorded['slow-simple']}")
    expect(page.locator("#page")).to_contain_text(f"B: run {recorded['slow-mpi']}")
    slow = table.locator("tbody tr", has_text="Slow2").locator("td")
    expect(slow).to_have_count(13)
    assert [slow.nth(n).inner_text() for n in range(1, 7)] == ["1", "1", "200", "200", "200", "200"]


def test_an_unknown_run_is_a_404_that_says_so(page, serve, recorded):
    url = serve()
    response = page.goto(f"{url}runs/nope")
    assert response is not None and response.status == 404
    expect(page.locator("#error")).to_contain_text("no run 'nope' in")
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(f"{url}api/runs/nope", timeout=30)
    assert raised.value.code == 404
    assert json.loads(raised.value.read())["error"].startswith("no run 'nope' in")
    page.goto(f"{url}compare?a=nope&b=last")
    expect(page.locator("#banner")).to_contain_text("no run 'nope' in")


def test_the_json_endpoints(serve, recorded):
    url = serve()

    def get(path: str):
        with urllib.request.urlopen(url + path, timeout=30) as response:
            return json.loads(response.read())

    listed = get("api/runs?backend=multi")
    assert listed["total"] == 8 and {run["id"] for run in listed["runs"]} == {
        recorded["slow-multi"],
        recorded["counted-multi"],
    }
    assert listed["choices"]["backend"] == ["mpi", "multi", "redis", "simple", "spark", "storm"]
    one = get(f"api/runs/{recorded['slow-mpi'][:5]}")  # a prefix, as for d4py runs show
    assert one["run"]["id"] == recorded["slow-mpi"] and one["analysis"]["bottleneck"]["pe"] == "Slow2"
    assert get("api/runs/last")["run"]["id"] == recorded["fails-simple"]
    compared = get(f"api/compare?a={recorded['slow-simple']}&b={recorded['counted-multi']}")
    assert compared["same_graph"] is False and [pe["pe"] for pe in compared["pes"]][-1] == "KeyCounter3"


def test_a_port_in_use_is_one_line_and_exit_2(cli):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = cli("monitor", "serve", "--port", str(port))
    assert done.returncode == 2
    assert done.stderr == (
        f"error: cannot serve on 127.0.0.1:{port}: the port is in use; choose another --port (0 picks a free one)\n"
    )
    assert re.fullmatch("", done.stdout)


def test_serve_with_collect_shows_a_run_that_another_machine_sent(page, key, home, tmp_path):
    server = subprocess.Popen(
        [sys.executable, "-m", "d4py", "monitor", "serve", "--port", "0", "--collect", "tcp://127.0.0.1:0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None and server.stderr is not None
        collecting = server.stderr.readline()  # said before the server's first line
        assert "collecting at tcp://127.0.0.1:" in collecting, collecting
        address = collecting.rsplit(" ", 1)[1].strip()
        url = server.stdout.readline().split("serving ", 1)[1].split()[0]
        elsewhere = {**os.environ, "D4PY_HOME": str(tmp_path / "node")}  # the run keeps no store of its own here
        done = subprocess.run(
            [sys.executable, "-m", "d4py", "run", "--monitor", address, "-b", "multi", "-n", "4", "counted.py"],
            capture_output=True,
            text=True,
            cwd=WORKFLOWS,
            env=elsewhere,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
        assert "not recorded" not in done.stderr and not (tmp_path / "node" / "runs.sqlite").exists()
        page.goto(url)
        expect(rows(page).filter(has_text="counted")).to_contain_text("ok", timeout=60_000)  # polled in
    finally:
        server.terminate()
        server.communicate(timeout=30)


@pytest.mark.parametrize(("option", "value"), [("--port", "99999"), ("--port", "-1"), ("--host", "")])
def test_a_port_out_of_range_or_an_empty_host_is_a_usage_error(cli, option, value):
    done = cli("monitor", "serve", option, value)
    assert done.returncode == 2 and f"argument {option}:" in done.stderr and "Traceback" not in done.stderr


def test_serve_never_shows_the_password_of_its_store(home):
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "d4py",
            "monitor",
            "serve",
            "--port",
            "0",
            "--store",
            "mongodb://u:pw5ecret@127.0.0.1:1/x",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        first = server.stdout.readline()
        assert "serving http://127.0.0.1:" in first and "mongodb://***@127.0.0.1:1/x" in first
        assert "pw5ecret" not in first
    finally:
        server.terminate()
        server.communicate(timeout=30)
