"""Bad input to ``d4py run --provenance`` and ``d4py prov``: one line, naming what is wrong and what to do.

Usage errors exit 2, a store that cannot be read exits 1.
"""

from __future__ import annotations

import json
import sqlite3

import pytest

from d4py_monitor.store import default_location

DATA = json.dumps({"Split": ["the lazy dog"]})


def refused(done, code: int, *phrases: str) -> str:
    assert done.returncode == code, (done.stdout, done.stderr)
    (line,) = done.stderr.splitlines()
    for phrase in phrases:
        assert phrase in line, line
    return line


def words(cli, *options: str):
    return cli("run", "wordcount.py", "-a", "graph", "-d", DATA, *options)


@pytest.mark.parametrize(
    ("options", "phrases"),
    [
        (["--provenance", "sampled", "--provenance-share", "0"], ["--provenance-share 0", "more than 0"]),
        (["--provenance", "sampled", "--provenance-share", "1.5"], ["--provenance-share 1.5", "at most 1"]),
        (["--provenance", "full", "--provenance-share", "0.5"], ["--provenance-share is for --provenance sampled"]),
        (["--provenance-select", "Split"], ["need --provenance run, sampled or full"]),
        (["--provenance", "full", "--no-monitor"], ["drop --no-monitor"]),
        (["--provenance", "full", "--monitor", "tcp://127.0.0.1:9"], ["give --monitor-store, not --monitor"]),
        (["--provenance", "full", "--provenance-select", "Nope"], ["'Nope' is no PE", "Split0, Count1"]),
        (["--provenance", "full", "--provenance-select", "Count:nope"], ["Count1 has no output 'nope'", "output"]),
    ],
)
def test_bad_provenance_options_are_refused_before_the_run(cli, options, phrases, recorded):
    refused(words(cli, *options), 2, *phrases)
    assert recorded() == []  # refused before anything ran


def test_a_bad_level_is_refused_by_its_choices(cli):
    done = words(cli, "--provenance", "most")
    assert done.returncode == 2 and "invalid choice: 'most'" in done.stderr


def test_a_store_with_no_runs_an_unknown_run_and_an_ambiguous_one(cli):
    refused(cli("prov", "explain", "last"), 2, "no runs recorded yet")
    assert words(cli, "--provenance", "full").returncode == 0
    refused(cli("prov", "explain", "nope"), 2, "no run 'nope'", "d4py runs list")
    refused(cli("prov", "explain", ""), 2, "give a run")


def test_a_run_without_provenance_says_how_to_record_it(cli):
    assert words(cli).returncode == 0
    for command in (["explain", "last"], ["impact", "last", "1"], ["export", "last", "--format", "prov-n", "-o", "x"]):
        refused(cli("prov", *command), 2, "kept no provenance", "d4py run --provenance full")


def test_unknown_items_and_inputs(cli):
    assert words(cli, "--provenance", "full").returncode == 0
    refused(cli("prov", "impact", "last", "12345"), 2, "has no item '12345'", "d4py prov explain")
    refused(cli("prov", "impact", "last", "dog"), 2, "has no item 'dog'")
    refused(cli("prov", "impact", "last", "--input", "the busy cat"), 2, "no root input", "'the busy cat'")
    refused(cli("prov", "impact", "last"), 2, "give an ITEM id or --input VALUE")
    refused(cli("prov", "search", "word"), 2, "give KEY=VALUE")


def test_a_damaged_store_is_one_line_and_exit_1(cli):
    assert words(cli, "--provenance", "full").returncode == 0
    with sqlite3.connect(default_location()) as db:
        db.execute("UPDATE item_batches SET columns = 'not json'")
    refused(cli("prov", "explain", "last"), 1, "is damaged")


def test_export_refuses_a_path_that_exists_or_whose_folder_does_not(cli, tmp_path):
    assert words(cli, "--provenance", "full").returncode == 0
    taken = tmp_path / "taken.json"
    taken.write_text("mine")
    refused(cli("prov", "export", "last", "--format", "prov-json", "-o", str(taken)), 2, "exists already")
    assert taken.read_text() == "mine"  # not overwritten
    nowhere = tmp_path / "no" / "such" / "run.json"
    refused(cli("prov", "export", "last", "--format", "openlineage", "-o", str(nowhere)), 2, "no folder", "make it")


def test_impact_takes_an_id_as_explain_shows_it_and_json_ids_are_text(cli):
    assert words(cli, "--provenance", "full").returncode == 0
    explained = cli("prov", "explain", "last").stdout
    line = next(line for line in explained.splitlines() if "('lazy', 1)" in line)
    shown = line.split()[0]  # "#1234..."
    done = cli("prov", "impact", "last", shown, "--json")
    assert done.returncode == 0, done.stderr
    (found,) = json.loads(done.stdout)
    assert found["id"] == shown[1:] and found["item"] == "('lazy', 1)"


def test_search_in_a_run_without_provenance_says_so(cli):
    assert words(cli).returncode == 0
    refused(cli("prov", "search", "word=dog", "--run", "last"), 2, "kept no provenance")
