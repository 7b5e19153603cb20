"""Entry points read from the distributions on sys.path."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from d4py.entrypoints import entry_points


def _install(folder: Path, dist_info: str, text: str) -> None:
    (folder / dist_info).mkdir(parents=True)
    (folder / dist_info / "entry_points.txt").write_text(text)


@pytest.fixture
def path(tmp_path, monkeypatch):
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    monkeypatch.setattr(sys, "path", [str(first), str(second), str(tmp_path / "missing")])
    return first, second


def test_groups_names_values_and_owners(path):
    first, _ = path
    _install(
        first, "d4py_mine-1.2.dist-info", "# comment\n[console_scripts]\nx = a:b\n\n[d4py]\nmine = d4py_mine.plugin\n"
    )
    (entry,) = entry_points("d4py")
    assert (entry.name, entry.value, entry.owner) == ("mine", "d4py_mine.plugin", "d4py-mine 1.2")
    assert [e.value for e in entry_points("console_scripts")] == ["a:b"]


def test_the_first_copy_of_a_distribution_on_the_path_wins(path):
    first, second = path
    _install(first, "d4py_mine-2.0.dist-info", "[d4py]\nmine = new_plugin\n")
    _install(second, "d4py_mine-1.0.dist-info", "[d4py]\nmine = old_plugin\n")
    _install(second, "other-0.1-py3.11.egg-info", "[d4py]\nother = other.plugin\n")
    assert [(e.value, e.owner) for e in entry_points("d4py")] == [
        ("new_plugin", "d4py-mine 2.0"),
        ("other.plugin", "other 0.1"),
    ]


def test_load_returns_the_named_attribute(path):
    first, _ = path
    _install(first, "d4py_mine-1.0.dist-info", "[d4py]\nmine = os.path:join\nmodule = os.path\n")
    loaded = {e.name: e.load() for e in entry_points("d4py")}
    assert loaded["mine"]("a", "b") == "a/b" and loaded["module"].sep == "/"
