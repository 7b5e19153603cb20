"""d4py_home: the folder d4py's services keep their files in."""

import sys
from pathlib import Path

import pytest

from d4py.home import d4py_home


def test_d4py_home_is_the_environment_variable_when_set(monkeypatch, tmp_path):
    monkeypatch.setenv("D4PY_HOME", str(tmp_path / "mine"))
    assert d4py_home() == tmp_path / "mine"


@pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="XDG layout")
def test_d4py_home_defaults_to_the_user_data_directory(monkeypatch, tmp_path):
    monkeypatch.delenv("D4PY_HOME", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert d4py_home() == tmp_path / "d4py"
    monkeypatch.setenv("XDG_DATA_HOME", "relative/ignored")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert d4py_home() == Path(tmp_path) / ".local" / "share" / "d4py"
