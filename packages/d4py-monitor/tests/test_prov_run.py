"""``d4py run --provenance`` as a user types it, in subprocesses, then ``d4py prov`` on what it kept.

The word counts of ``workflows/wordcount.py`` must be traced to exactly the lines that contain each word,
on every backend, whether the lines come from ``-d`` or from a producer.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from d4py_monitor.sqlite import SQLiteStore
from d4py_monitor.store import default_location

LINES = ["the quick brown fox", "the lazy dog", "a quick dog", "fox and dog", "the end"]
DATA = json.dumps({"Split": LINES})


def ok(done):
    assert done.returncode == 0, done.stderr
    return done.stdout


def run_words(cli, *options: str, source: str = "data") -> dict[str, Any]:
    """Run the word count (lines from -d, or from the producer) with ``options``; its result as JSON."""
    given = ["-a", "graph", "-d", DATA] if source == "data" else ["-a", "produced"]
    return json.loads(ok(cli("run", "wordcount.py", *given, "--json", *options)))


def rows(explained: list[dict[str, Any]]) -> list[tuple[str, str, str, list[tuple[str, str]]]]:
    """``d4py prov explain --json`` in a form to compare: sorted, roots sorted."""
    return sorted((e["pe"], e["port"], e["item"], sorted((r["pe"], r["item"]) for r in e["roots"])) for e in explained)


def expected(source: str) -> list[tuple[str, str, str, list[tuple[str, str]]]]:
    counts = Counter(word for line in LINES for word in line.split())
    root_pe = "Split0" if source == "data" else "Lines2"
    count_pe = "Count1" if source == "data" else "Count4"
    found = []
    for word, total in counts.items():
        containing = [line for line in LINES if word in line.split()]
        values = [repr({"input": line}) if source == "data" else repr(line) for line in containing]
        found.append((count_pe, "output", repr((word, total)), sorted((root_pe, value) for value in values)))
    return sorted(found)


def lineage_of(run_id: str):
    store = SQLiteStore(default_location(), create=False)
    try:
        return store.load_lineage(run_id)
    finally:
        store.close()


@pytest.mark.parametrize("source", ["data", "producer"])
@pytest.mark.parametrize("backend", ["simple", "multi"])
def test_each_word_count_is_traced_to_exactly_the_lines_that_contain_the_word(cli, backend, source):
    run_words(cli, "-b", backend, "-n", "4", "--provenance", "full", source=source)
    explained = json.loads(ok(cli("prov", "explain", "last", "--json")))
    assert all(set(e) == {"pe", "port", "item", "roots"} for e in explained)
    assert all(set(r) == {"pe", "item"} for e in explained for r in e["roots"])
    assert rows(explained) == expected(source)


@pytest.mark.parametrize(
    "backend", [["mpi"], ["spark"], ["redis"], ["storm", "-o", "emulate=true"]], ids=["mpi", "spark", "redis", "storm"]
)
def test_on_every_other_backend_too(cli, backend):
    run_words(cli, "-b", *backend, "-n", "3", "--provenance", "full")
    assert rows(json.loads(ok(cli("prov", "explain", "last", "--json")))) == expected("data")


def test_the_outputs_are_the_same_with_provenance_off_and_on(cli):
    off = run_words(cli, "-b", "multi", "-n", "3")
    on = run_words(cli, "-b", "multi", "-n", "3", "--provenance", "full")
    assert sorted(on["outputs"]["Count1"]["output"]) == sorted(off["outputs"]["Count1"]["output"])
    assert on["counts"] == off["counts"]
    newest, oldest = (run["id"] for run in json.loads(ok(cli("runs", "list", "--json"))))
    assert lineage_of(oldest) is None  # off keeps nothing
    assert lineage_of(newest).level == "full"


def test_the_human_explanation_names_each_output_its_metadata_and_its_lines(cli):
    run_words(cli, "--provenance", "full")
    lines = ok(cli("prov", "explain", "last")).splitlines()
    assert lines[0].startswith("run ") and lines[0].endswith(": 9 outputs, full lineage")
    at = next(n for n, line in enumerate(lines) if "('dog', 3)" in line)
    assert "Count1[" in lines[at] and "{word='dog', count=3}" in lines[at]
    assert [line.split(" Split0 input ", 1)[1] for line in lines[at + 1 : at + 4]] == [
        repr({"input": line}) for line in LINES if "dog" in line.split()
    ]


def test_sampled_provenance_keeps_a_share_of_whole_chains(cli):
    lines = [f"w{number} common" for number in range(40)]  # each word but one from one line: a chain each
    data = json.dumps({"Split": lines})
    ok(cli("run", "wordcount.py", "-a", "graph", "-d", data, "--provenance", "full"))
    full = rows(json.loads(ok(cli("prov", "explain", "last", "--json"))))
    ok(cli("run", "wordcount.py", "-a", "graph", "-d", data, "--provenance", "sampled", "--provenance-share", "0.5"))
    sampled = rows(json.loads(ok(cli("prov", "explain", "last", "--json"))))
    kept = [row for row in sampled if row[2] != repr(("common", 40))]
    assert 0 < len(kept) < 40  # some chains of 40, each whole: its count and its line
    assert all(row in full for row in kept)
    (run,) = [r["id"] for r in json.loads(ok(cli("runs", "list", "--json")))][:1]
    lineage = lineage_of(run)
    assert (lineage.level, lineage.share) == ("sampled", 0.5)
    for item in lineage.items.values():  # every kept item's chain is whole back to its line
        assert item.port == "" or any(parent in lineage.items for parent in item.parents)


def test_a_metadata_method_that_raises_is_recorded_and_the_run_goes_on(cli):
    result = json.loads(ok(cli("run", "described.py", "--json", "--provenance", "full")))
    assert sorted(result["outputs"]["Describe1"]["output"]) == [n * 10 for n in range(10)]
    shown = ok(cli("prov", "explain", "last"))
    assert "#" in shown and "{tens=1, even=False}" in shown
    raised = [line for line in shown.splitlines() if "error=" in line]
    assert len(raised) == 4  # 0, 30, 60, 90
    assert "item_metadata of PE Describe1 raised ValueError: no description of 30" in shown
    found = json.loads(ok(cli("prov", "search", "even=true", "--json")))
    assert sorted(item["item"] for item in found) == ["20", "40", "80"]


def test_a_failed_run_keeps_its_failure_with_the_input_it_failed_on(cli):
    done = cli("run", "-b", "multi", "-n", "3", "fails.py", "--provenance", "full")
    assert done.returncode == 1 and "cannot handle 13" in done.stderr
    shown = ok(cli("prov", "explain", "last"))
    (failed,) = [line for line in shown.splitlines() if line.startswith("failed: ")]
    assert failed.startswith("failed: Fails2[0] on {'input': 13} (#") and failed.endswith(
        "ValueError: cannot handle 13"
    )
    (run,) = json.loads(ok(cli("runs", "list", "--json")))
    assert run["status"] == "failed"
    lineage = lineage_of(run["id"])
    (failure,) = lineage.failures
    (parent,) = failure.inputs
    assert (lineage.items[parent].pe, lineage.items[parent].value) == ("Pass1", "13")  # the item it was handed


def test_impact_lists_the_outputs_that_derive_from_an_input(cli):
    run_words(cli, "-b", "multi", "--provenance", "full")
    found = json.loads(ok(cli("prov", "impact", "last", "--input", "the lazy dog", "--json")))
    assert sorted(item["item"] for item in found) == [repr(("dog", 3)), repr(("lazy", 1)), repr(("the", 3))]
    assert all(set(item) == {"id", "pe", "port", "item"} for item in found)
    (lazy,) = [item for item in found if "lazy" in item["item"]]
    same = json.loads(ok(cli("prov", "impact", "last", str(lazy["id"]), "--json")))
    assert same == [lazy]  # an output's impact is itself
    shown = ok(cli("prov", "impact", "last", "--input", "{'input': 'the end'}"))
    assert shown.startswith("2 outputs of run ") and "('end', 1)" in shown and "('the', 3)" in shown


def test_search_finds_items_by_metadata_across_runs(cli):
    ok(
        cli(
            "run",
            "wordcount.py",
            "-a",
            "graph",
            "-d",
            json.dumps({"Split": ["a dog", "dog days"]}),
            "--provenance",
            "full",
        )
    )
    ok(cli("run", "wordcount.py", "-a", "produced", "--provenance", "full"))
    newest, oldest = (run["id"] for run in json.loads(ok(cli("runs", "list", "--json"))))
    found = json.loads(ok(cli("prov", "search", "word=dog", "--json")))
    assert [(item["run"], item["item"]) for item in found] == [(oldest, repr(("dog", 2))), (newest, repr(("dog", 3)))]
    assert found[0]["metadata"] == {"word": "dog", "count": 2}
    one = json.loads(ok(cli("prov", "search", "count=3", "--run", newest[:6], "--json")))
    assert sorted(item["item"] for item in one) == [repr(("dog", 3)), repr(("the", 3))]
    assert ok(cli("prov", "search", "word=cat")) == "no item of any run has metadata word=cat\n"


def test_select_keeps_values_and_metadata_of_the_chosen_pes_and_every_chain(cli):
    run_words(cli, "--provenance", "full", "--provenance-select", "Split:output")
    explained = rows(json.loads(ok(cli("prov", "explain", "last", "--json"))))
    assert sorted(row[3] for row in explained) == sorted(row[3] for row in expected("data"))  # chains whole
    assert {row[2] for row in explained} == {""}  # the counts' values were not kept
    assert json.loads(ok(cli("prov", "search", "word=dog", "--json"))) == []  # nor their metadata
    assert "(value not kept)" in ok(cli("prov", "explain", "last"))


def test_level_run_keeps_inputs_and_outputs_only(cli):
    run_words(cli, "-b", "multi", "--provenance", "run")
    (run,) = json.loads(ok(cli("runs", "list", "--json")))
    lineage = lineage_of(run["id"])
    assert lineage.level == "run"
    inputs = sorted(item.value for item in lineage.items.values() if item.port == "")
    assert inputs == sorted(repr({"input": line}) for line in LINES)
    assert len(lineage.outputs()) == 9 and all(not item.parents for item in lineage.items.values())
    refused = cli("prov", "explain", "last")
    assert refused.returncode == 2 and "--provenance full or sampled" in refused.stderr
    run_words(cli, "--provenance", "run", "--provenance-select", "Split")  # the counts' values not kept
    newest = json.loads(ok(cli("runs", "list", "--json")))[0]["id"]
    assert {item.value for item in lineage_of(newest).outputs()} == {""}


def test_export_writes_each_format_a_reader_takes_back(cli, tmp_path):
    run_words(cli, "-b", "multi", "--provenance", "full")
    from prov.model import ProvDocument
    from rocrate.rocrate import ROCrate

    ok(cli("prov", "export", "last", "--format", "prov-json", "-o", str(tmp_path / "run.json")))
    document = ProvDocument.deserialize(tmp_path / "run.json", format="json")
    assert len(document.get_records()) > 29  # every kept item, the activities and their relations
    ok(cli("prov", "export", "last", "--format", "prov-n", "-o", str(tmp_path / "run.provn")))
    assert (tmp_path / "run.provn").read_text().startswith("document")
    ok(cli("prov", "export", "last", "--format", "ro-crate", "-o", str(tmp_path / "crate")))
    crate = ROCrate(tmp_path / "crate")
    assert crate.mainEntity is not None and crate.mainEntity.id.endswith("wordcount.py")
    ok(cli("prov", "export", "last", "--format", "openlineage", "-o", str(tmp_path / "events.jsonl")))
    events = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()]
    assert [event["eventType"] for event in events] == ["START", "COMPLETE"]


def test_a_failed_postprocess_is_kept_as_such(cli):
    assert cli("run", "fails_at_end.py", "--provenance", "full").returncode == 1
    shown = ok(cli("prov", "explain", "last"))
    (failed,) = [line for line in shown.splitlines() if line.startswith("failed: ")]
    assert failed == "failed: Summary1[0] in preprocess or postprocess: ValueError: no summary of 5 items"


def test_the_run_names_the_run_whose_provenance_it_kept(cli):
    done = cli("run", "wordcount.py", "-a", "graph", "-d", DATA, "--provenance", "sampled")
    (run,) = json.loads(ok(cli("runs", "list", "--json")))
    assert done.returncode == 0 and f"d4py-monitor: provenance kept: d4py prov explain {run['id']}" in done.stderr
