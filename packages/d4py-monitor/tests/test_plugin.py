"""The plugin is light: discovery imports it in every process, and a run's start-up pays for it."""

from __future__ import annotations

import subprocess
import sys

from d4py.plugins import make_plugin_manager


def test_the_plugin_is_found_through_the_d4py_entry_point():
    manager = make_plugin_manager()
    assert manager.has_plugin("monitor")
    assert manager.origins["monitor"].distribution == "d4py-monitor"


def test_importing_the_plugin_loads_neither_sqlite_nor_the_recorder():
    code = (
        "import sys, d4py_monitor.plugin; "
        "print(sorted(m for m in sys.modules if m.startswith(('sqlite3', 'd4py_monitor.', 'socket', 'uuid'))))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "['d4py_monitor.__about__', 'd4py_monitor.plugin']"
