"""The README's example workflow runs and says what the README says."""

from __future__ import annotations

import json
from pathlib import Path

README = Path(__file__).resolve().parents[3] / "README.md"


def test_readme_example_runs(cli, tmp_path):
    text = README.read_text()
    start = text.index("# wordlen.py\n")
    (tmp_path / "wordlen.py").write_text(text[start : text.index("```", start)])
    done = cli("run", "wordlen.py", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    (words,) = [ports["output"] for ports in json.loads(done.stdout)["outputs"].values()]
    assert sorted(words) == ["brown", "dog", "fox", "jumps", "lazy", "over", "quick", "the"]
    assert cli("check", "wordlen.py", cwd=tmp_path).returncode == 0
