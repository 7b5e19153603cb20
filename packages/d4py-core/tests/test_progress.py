"""The progress line appears on a terminal and nowhere else."""

from __future__ import annotations

import os
import pty
import subprocess
import sys

from conftest import EXAMPLES


def _run_with_stderr_on_a_terminal(*args: str) -> tuple[str, str]:
    master, slave = pty.openpty()
    env = {**os.environ, "TERM": "xterm", "COLUMNS": "120"}
    env.pop("NO_COLOR", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "d4py", *args], cwd=EXAMPLES, stdout=subprocess.PIPE, stderr=slave, env=env, text=True
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # the terminal closes when the process ends
            break
        if not chunk:
            break
        chunks.append(chunk)
    stdout = process.stdout.read() if process.stdout else ""
    process.wait()
    os.close(master)
    return stdout, b"".join(chunks).decode(errors="replace")


def test_progress_is_drawn_on_a_terminal_and_results_stay_on_stdout():
    stdout, terminal = _run_with_stderr_on_a_terminal("run", "wordfreq.py")
    assert "d4py simple:" in terminal and "items processed" in terminal
    assert "Gather" in stdout and "d4py simple:" not in stdout


def test_no_progress_when_asked(cli):
    _, terminal = _run_with_stderr_on_a_terminal("run", "wordfreq.py", "--no-progress")
    assert "items processed" not in terminal
    done = cli("run", "wordfreq.py")  # stderr is a pipe here: quiet by default
    assert done.stderr == ""


def test_the_line_adds_counts_reported_from_other_processes_or_shows_only_the_time():
    from rich.console import Console

    from d4py.cli.progress import ProgressDisplay
    from d4py.plugins import make_plugin_manager
    from d4py.runhooks import RunHooks

    display = ProgressDisplay(Console())
    display.backend, display.run = "multi", RunHooks(make_plugin_manager(autoload=False))
    display.run.progress({"Source0": 1, "Sink1": 4999})
    assert display._line().plain.startswith("d4py multi: 5,000 items processed in")
    assert "(most: Sink1 4,999)" in display._line().plain
    display.backend, display.live_counts = "spark", False
    assert display._line().plain.startswith("d4py spark: running, ")
