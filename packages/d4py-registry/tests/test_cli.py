"""d4py registry ... as a user types it: add, find, fetch, and every refusal in one line."""

import json
import socket

from conftest import WORKFLOWS


def one_line_error(done, code, text):
    assert done.returncode == code, done.stderr
    assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1, done.stderr
    assert text in done.stderr, done.stderr


def test_a_pe_added_from_a_file_is_found_by_text_and_type_and_returned_as_the_same_source(cli, tmp_path):
    added = cli("registry", "add", "textstats.py", "--version", "1.0", "--namespace", "text.stats")
    assert added.returncode == 0, added.stderr
    assert "added text.stats.CountWords@1.0 (pe)" in added.stdout
    by_text = cli("registry", "search", "count", "words")
    first = "text.stats.CountWords@1.0  pe  (pairs: tuple[str, int]) -> (counts: tuple[str, int])  Count each word"
    assert by_text.stdout.startswith(first)
    by_type = json.loads(cli("registry", "search", "--accepts", "tuple[str, int]", "--json").stdout)
    assert [e["name"] for e in by_type] == ["CountWords", "Threshold", "word_length"]
    fetched = cli("registry", "get", "text.stats.CountWords@1.0", "-o", str(tmp_path / "copy.py"))
    assert fetched.returncode == 0, fetched.stderr
    assert (tmp_path / "copy.py").read_bytes() == (WORKFLOWS / "textstats.py").read_bytes()
    assert cli("registry", "get", "text.stats.shout").stdout == (WORKFLOWS / "textstats.py").read_text()


def test_show_versions_and_remove(cli):
    cli("registry", "add", "textstats.py", "--version", "1.0")
    cli("registry", "add", "textstats.py", "--version", "1.1", "--author", "Grace Hopper")
    shown = cli("registry", "show", "textstats.CountWords")
    assert shown.stdout.startswith("textstats.CountWords@1.1 (pe)\n")
    assert "inputs: pairs: tuple[str, int] (group_by[0])" in shown.stdout
    assert "author: Grace Hopper" in shown.stdout and "licence: Apache-2.0" in shown.stdout
    document = json.loads(cli("registry", "show", "textstats.CountWords@1.0", "--json").stdout)
    assert (document["version"], document["author"]) == ("1.0", "Ada Lovelace")
    assert [line.split("\t")[0] for line in cli("registry", "versions", "textstats.graph").stdout.splitlines()] == [
        "1.0",
        "1.1",
    ]
    assert cli("registry", "remove", "textstats.graph@1.0").stdout == "removed textstats.graph@1.0\n"
    assert cli("registry", "versions", "textstats.graph").stdout.startswith("1.1\t")


def test_bad_input_is_one_line_with_the_right_exit_code(cli, tmp_path, home):
    cli("registry", "add", "textstats.py", "--version", "1.0")
    one_line_error(cli("registry", "show", "textstats.Nope"), 2, "nothing is registered as textstats.Nope")
    one_line_error(cli("registry", "get", "textstats.shout@7"), 2, "textstats.shout has no version '7'")
    one_line_error(cli("registry", "add", "textstats.py", "--version", "1.0"), 2, "is already registered")
    one_line_error(cli("registry", "add", "nothing.py"), 2, "defines no PE class, function PE or workflow graph")
    one_line_error(cli("registry", "add", "missing.py"), 2, "cannot find workflow file 'missing.py'")
    one_line_error(cli("registry", "show", "CountWords"), 2, "give NAMESPACE.NAME[@VERSION]")
    one_line_error(cli("registry", "add", "textstats.py", "--version", "1 0"), 2, "version '1 0'")
    one_line_error(cli("registry", "get", "textstats.shout", "-o", str(tmp_path / "no" / "such.py")), 2, "cannot write")
    assert cli("registry").returncode == 2  # argparse: a command is required


def test_a_source_changed_in_the_store_is_refused(cli, home):
    import sqlite3

    cli("registry", "add", "textstats.py")
    with sqlite3.connect(home / "registry.sqlite") as db:
        db.execute("UPDATE sources SET source = ?", (b"import os\n",))
    one_line_error(cli("registry", "get", "textstats.shout"), 1, "does not match its sha256")


def test_a_local_store_that_cannot_be_opened_is_one_line_exit_1(cli, tmp_path):
    (tmp_path / "file").write_text("not a folder")
    done = cli("registry", "search", env={"D4PY_HOME": str(tmp_path / "file" / "home")})
    one_line_error(done, 1, "cannot open the registry at")


def test_an_unreachable_registry_is_one_line_exit_1(cli):
    with socket.socket() as probe:  # a loopback port nothing listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    done = cli("registry", "search", "words", "--registry", f"http://127.0.0.1:{port}")
    one_line_error(done, 1, f"cannot reach the registry at http://127.0.0.1:{port}")
    one_line_error(cli("registry", "search", "--registry", "ftp://x"), 1, "give an http:// or https:// URL")
