"""``d4py monitor report``: one HTML file that shows a run with the network blocked."""

from __future__ import annotations

import re
import subprocess
import sys

from playwright.sync_api import expect


def offline(page) -> list[str]:
    """Block every request but file:// ones; returns the list the blocked ones are added to."""
    blocked: list[str] = []

    def route(handled) -> None:
        if handled.request.url.startswith("file://"):
            handled.continue_()
        else:
            blocked.append(handled.request.url)
            handled.abort()

    page.route("**/*", route)
    return blocked


def test_the_report_of_a_real_run_opens_offline_and_shows_it(cli, page, tmp_path):
    done = cli("run", "-b", "multi", "-n", "4", "slow.py")
    assert done.returncode == 0, done.stderr
    report = tmp_path / "run.html"
    written = cli("monitor", "report", "last", "-o", str(report))
    assert written.returncode == 0, written.stderr
    run_id = re.match(r"wrote run (\w+) \(slow on multi, ok\) to ", written.stdout)
    assert run_id is not None
    blocked = offline(page)
    page.goto(report.as_uri())
    expect(page.locator("#workflow-name")).to_have_text("slow")
    expect(page.locator("#summary")).to_contain_text(f"run {run_id[1]} on multi")
    expect(page.locator("#bottleneck .pe")).to_have_text("Slow2")
    expect(page.locator("#graph-drawing g.pe")).to_have_count(4)
    expect(page.locator("#timeline-drawing")).to_contain_text("Slow2[0]")
    expect(page.locator(".top")).to_contain_text("d4py run report")
    assert blocked == []  # it asked for nothing: scripts, styles and data are in the file
    text = report.read_text()
    assert "/static/" not in text and "<script src" not in text and '<link rel="stylesheet"' not in text
    assert 'href="/"' not in text  # no link back to a runs list a file opened on its own does not have


def test_the_report_of_a_failed_run_shows_its_error_and_keeps_markup_as_text(cli, page, tmp_path, save_run, markup):
    run = save_run("bad123", name=markup, status="failed")
    run.error = {"type": "PEFailure", "message": markup, "pe": "Count1", "instance": 1, "item": "{'input': 13}"}
    run.error["traceback"] = "Traceback: </script><script>window.hacked=2</script>"
    save_run("bad123", name=markup, status="failed", error=run.error)
    done = cli("monitor", "report", "bad", "-o", str(tmp_path / "bad.html"))  # a prefix, as for d4py runs show
    assert done.returncode == 0, done.stderr
    blocked = offline(page)
    page.goto((tmp_path / "bad.html").as_uri())
    expect(page.locator("#workflow-name")).to_have_text(markup)
    expect(page.locator("#error .message")).to_have_text(markup)
    expect(page.locator("#error pre.traceback")).to_have_text(run.error["traceback"])
    assert page.evaluate("window.hacked") is None and page.locator("main img").count() == 0
    assert blocked == []


def test_the_report_is_named_after_the_run_without_o(save_run, tmp_path):
    save_run("abc999")
    command = [sys.executable, "-m", "d4py", "monitor", "report", "last"]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("to d4py-run-abc999.html")
    assert "made" in (tmp_path / "d4py-run-abc999.html").read_text()


def test_bad_input_is_one_line_and_exit_2(cli, save_run, tmp_path):
    nothing = cli("monitor", "report", "last", "-o", str(tmp_path / "r.html"))
    assert nothing.returncode == 2 and nothing.stderr.startswith("error: no runs recorded yet in ")
    save_run("abc123")
    unknown = cli("monitor", "report", "zzz", "-o", str(tmp_path / "r.html"))
    assert unknown.returncode == 2 and len(unknown.stderr.splitlines()) == 1
    assert unknown.stderr.startswith("error: no run 'zzz' in ")
    unwritable = cli("monitor", "report", "abc", "-o", str(tmp_path / "missing" / "r.html"))
    assert unwritable.returncode == 2
    assert (
        unwritable.stderr
        == f"error: cannot write the report to {tmp_path / 'missing' / 'r.html'}: No such file or directory\n"
    )
    assert not (tmp_path / "r.html").exists()
