"""The local store: search, versions, removal, and many writers at once."""

import sqlite3
import subprocess
import sys
from dataclasses import replace

import pytest
from conftest import WORKFLOWS

from d4py_registry.describe import describe
from d4py_registry.errors import DuplicateVersion, HashMismatch, NotRegistered
from d4py_registry.sqlite import SQLiteStore, default_path


@pytest.fixture
def store():
    store = SQLiteStore()
    found = describe(str(WORKFLOWS / "textstats.py"), version="1.0")
    store.add(found.entries, found.source)
    yield store
    store.close()


def names(entries):
    return [entry.qualified for entry in entries]


def test_the_store_is_one_sqlite_file_under_d4py_home(store, home):
    assert store.path == default_path() == home / "registry.sqlite"
    assert sqlite3.connect(store.path).execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_search_finds_words_in_names_docs_ports_and_types(store):
    assert names(store.search("words"))[2:] == ["textstats.graph"]  # CountWords and SplitWords by name first
    assert "textstats.Threshold" in names(store.search("minimum"))  # a docstring
    assert "textstats.CountWords" in names(store.search("pairs"))  # a port name
    assert names(store.search("capitals")) == ["textstats.shout"]
    assert names(store.search("word len")) == ["textstats.word_length", "textstats.graph"]  # names rank first
    assert store.search("nosuchword") == []
    assert len(store.search("")) == 7


def test_search_by_type_answers_what_can_take_this_output(store):
    takes_pairs = names(store.search(accepts="tuple[str, int]"))
    assert takes_pairs == ["textstats.CountWords", "textstats.Threshold", "textstats.word_length"]
    assert names(store.search(produces="int")) == ["textstats.graph", "textstats.word_length"]
    assert names(store.search("count", accepts="tuple[str, int]", produces="tuple")) == [
        "textstats.CountWords",
        "textstats.Threshold",
    ]


def test_the_latest_version_is_the_highest_read_as_numbers(store):
    found = describe(str(WORKFLOWS / "textstats.py"))
    for version in ("1.9", "1.10", "1.2"):
        store.add([replace(e, version=version) for e in found.entries], found.source)
    assert store.get("textstats.CountWords").version == "1.10"
    assert [e.version for e in store.versions("textstats.CountWords")] == ["1.0", "1.2", "1.9", "1.10"]
    assert [e.version for e in store.search("CountWords")] == ["1.10"]


def test_a_duplicate_version_is_refused_and_nothing_of_the_module_is_added(store):
    found = describe(str(WORKFLOWS / "textstats.py"))
    fresh = replace(found.entries[0], version="2.0")
    with pytest.raises(DuplicateVersion, match=r"textstats.SplitWords@1.0 is already registered with the same source"):
        store.add([fresh, replace(found.entries[1], version="1.0")], found.source)
    assert [e.version for e in store.versions(fresh.qualified)] == ["1.0"]


def test_one_version_named_twice_in_one_add_is_refused(store):
    found = describe(str(WORKFLOWS / "textstats.py"))
    twice = [replace(found.entries[0], version="5.0")] * 2
    with pytest.raises(DuplicateVersion, match="name one version twice"):
        store.add(twice, found.source)


def test_entries_whose_hash_the_source_does_not_have_are_refused(store):
    found = describe(str(WORKFLOWS / "textstats.py"))
    with pytest.raises(HashMismatch, match="does not match its sha256"):
        store.add([replace(e, version="3.0") for e in found.entries], found.source + b"\n# changed\n")


def test_remove_one_version_or_every_version(store):
    found = describe(str(WORKFLOWS / "textstats.py"))
    store.add([replace(e, version="2.0") for e in found.entries], found.source)
    assert [e.ref for e in store.remove("textstats.shout@1.0")] == ["textstats.shout@1.0"]
    assert [e.version for e in store.versions("textstats.shout")] == ["2.0"]
    assert len(store.remove("textstats.shout")) == 1
    with pytest.raises(NotRegistered, match=r"nothing is registered as textstats\.shout"):
        store.get("textstats.shout")
    assert "textstats.shout" not in names(store.search("capitals"))


def test_unknown_names_and_versions_say_what_is_there(store):
    with pytest.raises(NotRegistered, match=r"textstats.CountWords has no version '9'; registered versions: 1.0"):
        store.get("textstats.CountWords@9")


ADD_ONE = """
import sys
from dataclasses import replace
from d4py_registry.describe import describe
from d4py_registry.sqlite import SQLiteStore

found = describe(sys.argv[1])
store = SQLiteStore()
for version in range(int(sys.argv[2]), int(sys.argv[2]) + 5):
    store.add([replace(e, version=f"{version}.0") for e in found.entries], found.source)
"""


def test_concurrent_writers_all_land():
    workers = [
        subprocess.Popen([sys.executable, "-c", ADD_ONE, str(WORKFLOWS / "textstats.py"), str(start)])
        for start in (10, 20, 30, 40)
    ]
    assert [worker.wait(timeout=120) for worker in workers] == [0, 0, 0, 0]
    store = SQLiteStore()
    assert len(store.versions("textstats.CountWords")) == 20
    assert len(store.search("")) == 7
