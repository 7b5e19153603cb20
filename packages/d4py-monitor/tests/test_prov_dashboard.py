"""The dashboard's lineage page in a real browser: a run's outputs with the inputs they came from."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect
from recorded import record_runs

WORKFLOWS = Path(__file__).parent / "workflows"
LINES = ["the quick brown fox", "the lazy dog", "a quick dog", "fox and dog", "the end"]
MARKUP = '<img src=x onerror="window.hacked=1"><script>window.hacked=1</script>'


@pytest.fixture(scope="module")
def recorded_home(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A $D4PY_HOME with the word count traced on multi, run untraced, traced on markup, and a failed run."""
    home = tmp_path_factory.mktemp("lineage") / "d4py-home"
    words = ["wordcount.py", "-a", "graph", "-d"]
    runs = [
        ("traced", ["-b", "multi", "-n", "3", "--provenance", "full", *words, json.dumps({"Split": LINES})]),
        ("untraced", [*words, json.dumps({"Split": LINES})]),
        ("markup", ["--provenance", "full", *words, json.dumps({"Split": [MARKUP]})]),
        ("failed", ["--provenance", "full", "fails.py"]),
    ]
    return home, record_runs(home, runs, frozenset({"failed"}))


@pytest.fixture
def recorded(recorded_home, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    home, ids = recorded_home
    monkeypatch.setenv("D4PY_HOME", str(home))
    return ids


def rows(page):
    return page.locator("#lineage tbody tr")


def test_each_output_shows_the_lines_it_came_from_and_the_filter_and_a_picked_input_narrow_them(page, serve, recorded):
    page.goto(f"{serve()}/runs/{recorded['traced']}")
    page.click("#lineage-link")
    expect(page.locator("#summary h1")).to_contain_text("wordcount:graph: lineage")
    expect(rows(page)).to_have_count(9)
    dog = rows(page).filter(has_text="('dog', 3)")
    expect(dog.locator("li.root")).to_have_text(
        [f"Split0 input {{'input': '{line}'}}" for line in LINES if "dog" in line]
    )
    expect(dog).to_contain_text('word="dog", count=3')
    page.fill("#filter", "lazy")  # the outputs whose item or inputs hold it
    expect(rows(page)).to_have_count(3)
    expect(page.locator("#count")).to_have_text("3 of 9 outputs")
    page.fill("#filter", "")
    rows(page).filter(has_text="('end', 1)").locator("li.root").click()  # what derives from 'the end'
    expect(rows(page)).to_have_count(2)
    expect(rows(page).filter(has_text="('the', 3)")).to_have_count(1)
    page.click("#unpick")
    expect(rows(page)).to_have_count(9)


def test_a_run_without_provenance_has_no_link_and_its_lineage_page_says_how_to_keep_it(page, serve, recorded):
    url = serve()
    page.goto(f"{url}/runs/{recorded['untraced']}")
    expect(page.locator("#summary")).to_contain_text(f"run {recorded['untraced']}")
    expect(page.locator("#lineage-link")).to_have_count(0)
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{url}/api/runs/{recorded['untraced']}/lineage", timeout=30)
    assert refused.value.code == 404
    assert "d4py run --provenance full" in json.loads(refused.value.read())["error"]
    page.goto(f"{url}/runs/{recorded['untraced']}/lineage")
    expect(page.locator("#error")).to_contain_text("kept no provenance")


def test_a_failed_run_shows_the_call_that_failed(page, serve, recorded):
    page.goto(f"{serve()}/runs/{recorded['failed']}/lineage")
    expect(page.locator("#failures tbody tr")).to_have_text(
        [re.compile(r"Fails2\[0\]\s*\{'input': 13\}\s*\d+\s*ValueError: cannot handle 13")]
    )


def test_items_that_hold_markup_show_as_text(page, serve, recorded):
    page.goto(f"{serve()}/runs/{recorded['markup']}/lineage")
    expect(rows(page).first.locator("li.root")).to_have_text(f"Split0 input {{'input': '{MARKUP}'}}")
    assert page.evaluate("window.hacked") is None


def test_chain_draws_the_items_an_output_derives_from_back_to_its_lines(page, serve, recorded):
    page.goto(f"{serve()}/runs/{recorded['traced']}/lineage")
    rows(page).filter(has_text="('dog', 3)").locator("button.chain").click()
    expect(page.locator("#chain h2")).to_have_text("Where ('dog', 3) came from")
    expect(page.locator("#chain-about")).to_contain_text("6 items behind it")
    drawing = page.locator("#chain-drawing")
    expect(drawing.locator("g.item.picked")).to_have_count(1)
    expect(drawing.locator("g.item.between")).to_have_count(3)  # ('dog', 1) from each of the three lines
    expect(drawing.locator("g.item.root")).to_have_count(3)
    roots = drawing.locator("g.item.root title")
    expect(roots).to_have_count(3)
    assert sorted(roots.all_text_contents()) == sorted(
        f"Split0 input: {{'input': '{line}'}}" for line in LINES if "dog" in line.split()
    )


def test_the_chain_of_an_unknown_item_or_of_an_untraced_run_is_a_404_that_says_so(serve, recorded):
    url = serve()
    for path, said in [
        (f"/api/runs/{recorded['traced']}/lineage/12345", "has no item 12345"),
        (f"/api/runs/{recorded['untraced']}/lineage/1", "kept no provenance"),
    ]:
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(url + path, timeout=30)
        assert refused.value.code == 404 and said in json.loads(refused.value.read())["error"]
