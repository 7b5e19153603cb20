"""The dashboard on records made here: a run in progress updating live, the matrix, keys and latency, markup
in a record shown as text, and a store that cannot be read."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest
from playwright.sync_api import expect

from d4py_monitor.record import InstanceRecord
from d4py_monitor.store import default_location


def test_a_run_in_progress_updates_live_in_the_list_and_on_its_page(page, serve, save_run):
    save_run("older", name="first")
    url = serve()
    page.goto(url)
    expect(page.locator("#runs tbody tr[data-id]")).to_have_count(1)
    running = save_run("live01", status="running", ended=1000.5)  # saved as it goes: a newer run appears
    row = page.locator('#runs tr[data-id="live01"]')
    expect(row).to_contain_text("running")
    page.goto(f"{url}runs/live01")
    expect(page.locator("#live")).to_have_text("live: updating every second")
    expect(page.locator("#instances")).to_contain_text("40")
    running.instances[0].writes = {"output": 12345}
    running.instances.append(InstanceRecord("Count1", 2, "h", 14, 3, {"input": 5}, {}, 0.1, 0.0, 0.0))
    save_run("live01", status="running", ended=1001.5, instances=running.instances)
    expect(page.locator("#instances")).to_contain_text("12,345")  # the store changed: the page follows
    expect(page.locator("#layout .instance")).to_have_count(4)
    save_run("live01", status="ok", ended=1003.0, instances=running.instances)
    expect(page.locator("#summary .status")).to_have_text("ok")
    expect(page.locator("#live")).to_have_text("finished: ok")
    page.goto(url)
    expect(page.locator('#runs tr[data-id="live01"]')).to_contain_text("ok")


def test_the_matrix_bytes_keys_and_latency_show_when_recorded(page, serve, save_run):
    run = save_run("detail")
    source, first, second = run.instances
    source.sent = [
        {"pe": "Count1", "index": 0, "items": 30, "bytes": 3000},
        {"pe": "Count1", "index": 1, "items": 10, "bytes": 1000},
    ]
    source.bytes_out = {"output": 4000}
    first.bytes_in, second.bytes_in = {"input": 3000}, {"input": 1000}
    first.keys = {"input": [("'red'", 25), ("'blue'", 5)]}
    first.latency = {"samples": 30, "p50_s": 0.002, "p95_s": 0.004, "max_s": 0.009}
    save_run("detail", instances=[source, first, second])
    page.goto(f"{serve()}runs/detail")
    matrix = page.locator("#matrix table")
    expect(matrix.locator("thead th")).to_have_text(["from \\ to", "Count1[0]", "Count1[1]"])
    expect(matrix.locator("tbody tr")).to_have_count(1)  # only Source0 sent anything
    expect(matrix.locator("tbody td")).to_have_text(["30 items2.9 KiB", "10 items1000 B"])
    expect(page.locator("#ports tbody tr")).to_have_count(3)
    expect(page.locator("#ports")).to_contain_text("3.9 KiB")
    expect(page.locator("#keys tbody tr").first).to_contain_text("'red'")
    expect(page.locator("#keys tbody tr").first).to_contain_text("25")
    expect(page.locator("#latency tbody tr")).to_have_text(["Count1[0]300.0020.0040.009"])


def test_a_made_record_without_those_says_not_recorded_and_names_its_bottleneck(page, serve, save_run):
    save_run("plain")
    page.goto(f"{serve()}runs/plain")
    expect(page.locator("#matrix")).to_contain_text("Not recorded for this run")
    for absent in ("#ports", "#keys", "#latency"):
        expect(page.locator(absent)).to_have_count(0)
    # Count1: 2.0 s busy over 2 instances = 1.0 s each, Source0 0.1 s; Source0 blocked 0.3 s sending to it.
    expect(page.locator("#bottleneck")).to_contain_text(
        "Bottleneck: Count1: 1.000 s busy per instance (2 instances); the PEs feeding it (Source0) were blocked 0.300 s"
    )


def test_markup_in_a_record_is_shown_as_text_never_run(page, serve, save_run, markup):
    run = save_run("xss", name=markup)
    run.error = {"type": "PEFailure", "message": markup, "pe": "Count1", "instance": 0, "item": markup}
    run.error["traceback"] = f"Traceback: </script><script>window.hacked=2</script>{markup}"
    run.instances[1].keys = {"input": [(markup, 3)]}
    run.instances[0].sent = [{"pe": markup, "index": 0, "items": 1, "bytes": 1}]
    run.options = {"note": markup}
    save_run("xss", name=markup, status="failed", error=run.error, instances=run.instances, options=run.options)
    url = serve()
    page.goto(f"{url}runs/xss")
    expect(page.locator("#workflow-name")).to_have_text(markup)
    expect(page.locator("#error .message")).to_have_text(markup)
    expect(page.locator("#error pre.traceback")).to_contain_text("</script><script>window.hacked=2</script>")
    expect(page.locator("#keys")).to_contain_text(markup)
    expect(page.locator("#matrix thead")).to_contain_text(markup)
    page.goto(url)
    page.fill("#search", "xss")
    expect(page.locator('#runs tr[data-id="xss"]')).to_contain_text(markup)
    page.select_option("#workflow", markup)
    expect(page.locator("#runs tbody tr[data-id]")).to_have_count(1)
    for visited in (f"{url}runs/xss", url):
        page.goto(visited)
        page.wait_for_selector("#summary, #runs tbody tr[data-id]")
        assert page.evaluate("window.hacked") is None
        assert page.locator("main img, main script").count() == 0


def test_a_corrupt_store_is_an_error_page_and_the_server_stays_up(page, serve, save_run, home):
    save_run("good")
    url = serve()
    default_location().write_bytes(b"this is not an SQLite database, " * 100)
    for wal in home.glob("runs.sqlite-*"):
        wal.unlink()
    response = page.goto(url)
    assert response is not None and response.status == 500
    expect(page.locator("h1")).to_have_text("The run store cannot be read")
    expect(page.locator("#error")).to_contain_text(f"cannot open the run store {default_location()}")
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(f"{url}api/runs", timeout=30)
    assert raised.value.code == 500 and b"file is not a database" in raised.value.read()
    default_location().unlink()  # the store is made anew: the same server shows it
    save_run("again")
    response = page.goto(url)
    assert response is not None and response.status == 200
    expect(page.locator("#runs tbody tr[data-id]")).to_have_count(1)


def test_no_run_recorded_yet_is_an_empty_list_that_says_where(page, serve):
    page.goto(serve())
    expect(page.locator("#runs tbody")).to_contain_text(f"no runs recorded yet in {default_location()}")
    expect(page.locator("#count")).to_have_text("0 of 0 runs")
